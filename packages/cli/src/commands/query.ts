import type { IO } from '../io.js';
import type { OutputOptions } from '../options.js';
import { printTables } from '../output.js';
import { withReadStore } from '../read_store.js';

export interface QueryOptions extends OutputOptions {
  orderBy?: string;
  limit?: number;
  columns?: string;
  experiment?: string;
}

/** `squash query [filter]`: runs matching a filter (none: every run), on a read-only connection. */
export async function query(filter: string | undefined, opts: QueryOptions, io: IO): Promise<number> {
  withReadStore(opts.db, (store) => {
    const result = store.searchRuns(filter ?? '', {
      orderBy: opts.orderBy,
      limit: opts.limit,
      columns: opts.columns ? [opts.columns] : undefined,
      experiment: opts.experiment,
    });
    printTables(opts.format, io, {
      title: `${result.rows.length} runs`,
      columns: result.columns.map((c: string) => ({ key: c, title: c, align: 'left' as const })),
      rows: result.rows,
    });
  });
  return 0;
}
