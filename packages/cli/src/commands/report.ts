import type { IO } from '../io.js';
import type { Pivot, REPORT_COMMAND_FORMATS } from '../options.js';
import { withReadStore } from '../read_store.js';
import { positions, printReport, reportTarget } from '../report_print.js';
import { renderSearchOutcome, searchSection } from '../search_print.js';

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
  const searches = target.experiment?.searches.length ? await import('@squash/runner/spec') : undefined;
  withReadStore(opts.db, (store) => {
    // A search file: its candidates are the ones the database last ran, each search judged again.
    const searched = searches && target.experiment ? searches.storedSearches(store, target.experiment) : undefined;
    const shown = searched ? { ...target, only: positions(searches!.reportedTrialIds(searched.experiment)) } : target;
    const sections = opts.format === 'html' ? searched?.outcomes.map(searchSection) : undefined;
    printReport(store, shown, opts.format, io, {
      out: opts.out,
      pivot: opts.pivot,
      limit: opts.limit,
      searches: sections,
    });
    if (opts.format === 'html' || opts.out) return;
    for (const o of searched?.outcomes ?? []) io.out(`\n${renderSearchOutcome(o, opts.format)}`);
  });
  return 0;
}
