import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Metric, type Reference } from '@squash/contract';
import { ConfigError, didYouMean } from '@squash/core';
import {
  configFront,
  downloadTable,
  frontRuns,
  pivotTable,
  referenceTable,
  renderHtml,
  reportTable,
  shownRows,
  type SearchSection,
  type Table,
  terminalText,
} from '@squash/reporter';
import type { Experiment } from '@squash/runner/spec';
import type { RunView } from '@squash/contract';
import type { SqliteStore } from '@squash/store';
import { decoderBundle } from './decoder_bundle.js';
import { type IO, outputWidth } from './io.js';
import { DEFAULT_REPORT_ROWS, type Pivot } from './options.js';
import { type OutputFormat, renderAs } from './output.js';

/**
 * What to report: an experiment file means its name and only the trials it plans now (older
 * configurations of the same experiment stay in the database but out of the table); a name means
 * every run stored under it.
 */
export interface ReportTarget {
  name: string;
  /** The experiment file's content, when the target is a file. */
  experiment?: Experiment;
  /** Trial ids the file plans now, in plan order; undefined: every run of the experiment. */
  only?: Map<string, number>;
  reference?: Reference;
}

export async function reportTarget(target: string): Promise<ReportTarget> {
  if (!/\.ya?ml$/i.test(target)) return { name: target };
  const { loadExperimentFile } = await import('@squash/runner/spec');
  return planned(loadExperimentFile(target));
}

/** The file's trials in plan order (baselines first), for filtering and ordering the table. */
export async function planned(exp: Experiment): Promise<ReportTarget> {
  const { reportedTrialIds } = await import('@squash/runner/spec');
  return { name: exp.name, experiment: exp, only: positions(reportedTrialIds(exp)), reference: exp.reference };
}

export const positions = (ids: string[]): Map<string, number> => new Map(ids.map((id, i) => [id, i]));

export interface PrintOptions {
  out?: string;
  pivot?: Pivot;
  /** Rows to show (Infinity: all); default DEFAULT_REPORT_ROWS on terminal and markdown, all rows otherwise. */
  limit?: number;
  /** The HTML page's search sections (text formats print searches after the table). */
  searches?: SearchSection[];
}

function rowLimit(limit: number | undefined, format: OutputFormat): number {
  if (limit !== undefined) return limit;
  return format === 'terminal' || format === 'markdown' ? DEFAULT_REPORT_ROWS : Infinity;
}

/**
 * One run per trial — its latest FINISHED run, else its latest (a --force rerun or a retry after a
 * crash adds runs; `squash history` shows them all) — restricted to the trials a file plans now, in
 * plan order; `only` undefined keeps every trial, in the order first claimed. Over indices 0…n−1.
 */
function planOrder(
  n: number,
  trialId: (i: number) => string,
  finished: (i: number) => boolean,
  only: Map<string, number> | undefined,
): number[] {
  const latest = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const t = trialId(i);
    if (only && !only.has(t)) continue;
    const kept = latest.get(t);
    if (kept === undefined || finished(i) || !finished(kept)) latest.set(t, i);
  }
  const out = [...latest.values()];
  return only ? out.sort((a, b) => only.get(trialId(a))! - only.get(trialId(b))!) : out;
}

function noRuns(store: SqliteStore, name: string, stored: number): ConfigError {
  // Experiment names come from files and the database: shown escaped, as in a table.
  const shown = terminalText(name);
  if (stored)
    return new ConfigError(`no runs yet for the trials ${shown}'s file plans now; run it first (squash run <file>)`);
  const known = store.experiments().map((e) => e.name);
  const near = didYouMean(name, known);
  return new ConfigError(
    `no runs for experiment '${shown}'${near ? `; did you mean '${terminalText(near)}'?` : ''}; known: ${terminalText(known.join(', ')) || '(none)'}`,
  );
}

/**
 * The comparison table, reading full views only for the rows it shows: the rows are chosen from
 * light heads (accuracy and bytes for the Pareto front), so 100,000 stored runs cost one narrow
 * query plus the views of `limit` rows. With the runs shown.
 */
function limitedReportTable(
  store: SqliteStore,
  target: ReportTarget,
  limit: number,
): { table: Table; runs: RunView[] } {
  const h = store.listRunHeads(target.name, [Metric.accuracy, Metric.artifactBytes]);
  const picked = planOrder(
    h.length,
    (i) => h.trialIds[i]!,
    (i) => h.finished[i] === 1,
    target.only,
  );
  if (!picked.length) throw noRuns(store, target.name, h.length);
  // The front over configurations: a configuration's seeds are one point, at their means.
  const frontRows = frontRuns(
    configFront(
      h.metrics[Metric.accuracy]!,
      h.metrics[Metric.artifactBytes]!,
      h.configs,
      picked.filter((i) => h.finished[i] === 1),
    ),
  );
  const shown = shownRows(
    picked.length,
    limit,
    (k) => h.isBaseline[picked[k]!] === 1,
    (k) => frontRows.has(picked[k]!),
  ).map((k) => picked[k]!);
  const runs = store.runsByRowid(shown.map((i) => h.rowids[i]!));
  const front = new Set(runs.filter((_, k) => frontRows.has(shown[k]!)).map((r) => r.id));
  const population = {
    runs: picked.length,
    trials: picked.filter((i) => h.isBaseline[i] === 0).length,
    seeds: new Set(picked.map((i) => h.seeds[i])).size,
    backends: store.experimentBackends(target.name),
  };
  return { table: reportTable(target.name, runs, { front, population }), runs };
}

/** The download sizes of the shown trials, on a terminal and in markdown (csv and json stay one table). */
function downloadsText(runs: readonly RunView[], format: OutputFormat, width: number): string[] {
  if (format !== 'terminal' && format !== 'markdown') return [];
  const t = downloadTable(runs, decoderBundle()?.gzipBytes);
  return t ? [renderAs(t, format, width)] : [];
}

/** The comparison table (or pivot, or HTML page) of one experiment, to `io.out` or `opts.out`. */
export function printReport(
  store: SqliteStore,
  target: ReportTarget,
  format: OutputFormat,
  io: IO,
  opts: PrintOptions = {},
): void {
  const { name, only, reference } = target;
  const limit = rowLimit(opts.limit, format);
  // Cut long labels only on a terminal; piped output keeps every character.
  const width = outputWidth();
  let out = opts.out;
  let text: string;
  if (format !== 'html' && !opts.pivot && !reference) {
    const { table, runs } = limitedReportTable(store, target, limit);
    text = [renderAs(table, format, width), ...downloadsText(runs, format, width)].join('\n');
  } else {
    const stored = store.listRuns(name);
    const runs = planOrder(
      stored.length,
      (i) => stored[i]!.trialId,
      (i) => stored[i]!.status === 'FINISHED',
      only,
    ).map((i) => stored[i]!);
    if (!runs.length) throw noRuns(store, name, stored.length);
    if (format === 'html') {
      text = renderHtml(name, runs, {
        generatedAt: new Date().toISOString(),
        reference,
        decoderBytes: decoderBundle()?.gzipBytes,
        searches: opts.searches,
      });
      out ??= join(dirname(store.path), 'reports', `${name}.html`);
    } else {
      const main = opts.pivot ? pivotTable(runs, opts.pivot) : reportTable(name, runs, { maxRows: limit });
      const tables = [main];
      if (reference) tables.push(referenceTable(reference, runs));
      const shown = new Set(main.rows.map((r) => r.id));
      const downloads = opts.pivot
        ? []
        : downloadsText(
            runs.filter((r) => shown.has(r.id)),
            format,
            width,
          );
      text = [...tables.map((t) => renderAs(t, format, width)), ...downloads].join('\n');
    }
  }
  if (out) {
    writeReport(out, text);
    io.err(`wrote ${out}\n`);
  } else io.out(text);
}

/**
 * Writes a report file whole or not at all: missing parent directories are created (as for the
 * default `<db dir>/reports/`: a report path names where the reader wants it, and `mkdir -p` first
 * is what every caller would otherwise do), the text goes to a temporary file renamed over `path`,
 * and a failure is a ConfigError naming the path and the reason, with nothing left behind.
 */
export function writeReport(path: string, text: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ConfigError(`cannot create the directory ${dir} for the report: ${reason(e)}`, {
      location: { file: path },
    });
  }
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ConfigError(`cannot write the report: ${reason(e)}`, { location: { file: path } });
  }
}

/** An fs error as words: `not a directory (ENOTDIR)`. */
function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    ENOTDIR: 'a parent is a file, not a directory',
    EISDIR: 'it is a directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EEXIST: 'a parent is a file, not a directory',
  };
  return err?.code ? `${words[err.code] ?? err.message} (${err.code})` : String(err?.message ?? e);
}
