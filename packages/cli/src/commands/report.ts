import type { IO } from '../io.js';
import type { Pivot, REPORT_COMMAND_FORMATS } from '../options.js';
import { withReadStore } from '../read_store.js';
import { printReport, reportTarget } from '../report_print.js';

export interface ReportOptions {
  db?: string;
  format: (typeof REPORT_COMMAND_FORMATS)[number];
  out?: string;
  pivot?: Pivot;
  /** Rows to show; Infinity for `--limit all`. */
  limit?: number;
}

/** `squash report <name | file>`: the comparison table, a pivot, or an HTML page. */
export async function report(experiment: string, opts: ReportOptions, io: IO): Promise<number> {
  // The file first: a malformed one is reported before a missing database.
  const target = await reportTarget(experiment);
  withReadStore(opts.db, (store) =>
    printReport(store, target, opts.format, io, { out: opts.out, pivot: opts.pivot, limit: opts.limit }),
  );
  return 0;
}
