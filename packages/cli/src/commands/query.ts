import type { IO } from '../io.js';
import type { OutputOptions } from '../options.js';
import { printTables } from '../output.js';
import { checkKeysExist, searchIdents, withReadStore } from '../read_store.js';

export interface QueryOptions extends OutputOptions {
  orderBy?: string;
  limit?: number;
  columns?: string;
  experiment?: string;
  /** Only each trial's latest run (its latest FINISHED one, else its latest), as `report` shows. */
  latest?: boolean;
}

/** `squash query [filter]`: runs matching a filter (none: every run), on a read-only connection. */
export async function query(filter: string | undefined, opts: QueryOptions, io: IO): Promise<number> {
  withReadStore(opts.db, (store) => {
    const text = filter ?? '';
    // The search first: it reports bad syntax and an unknown experiment by column and name.
    const result = store.searchRuns(text, {
      orderBy: opts.orderBy,
      limit: opts.limit,
      columns: opts.columns ? [opts.columns] : undefined,
      experiment: opts.experiment,
      latest: opts.latest,
    });
    checkKeysExist(store, searchIdents(text, opts.orderBy, opts.columns), opts.experiment);
    const numeric = (c: string) =>
      result.rows.some((r) => r[c] !== null) && result.rows.every((r) => r[c] === null || typeof r[c] === 'number');
    printTables(opts.format, io, {
      title: `${result.rows.length} runs${opts.latest ? " (each trial's latest)" : ''}`,
      columns: result.columns.map((c: string) => ({ key: c, title: c, align: numeric(c) ? 'right' : 'left' })),
      rows: result.rows,
    });
  });
  return 0;
}
