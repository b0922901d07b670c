import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, didYouMean } from '@squash/core';
import { defaultPaths, loadExperimentFile, planTrials, SqliteStore, type Experiment } from '@squash/runner';
import { pivotTable, referenceTable, renderHtml, renderJson, renderTable, reportTable, REPORT_FORMATS, type Table } from '@squash/reporter';
import type { Reference } from '@squash/runner';
import type { ParsedArgs } from '../cli.js';

export type IO = { out: (s: string) => void; err: (s: string) => void };

/**
 * What to report: an experiment file means its name and only the trials it plans now (older
 * configurations of the same experiment stay in the database but out of the table); a name means
 * every run stored under it.
 */
export interface ReportTarget {
  name: string;
  /** Trial ids the file plans now, in plan order; undefined: every run of the experiment. */
  only?: Map<string, number>;
  reference?: Reference;
}

export function reportTarget(target: string): ReportTarget {
  if (!/\.ya?ml$/i.test(target)) return { name: target };
  return planned(loadExperimentFile(target));
}

/** The file's trials in plan order (baselines first), for filtering and ordering the table. */
export function planned(exp: Experiment): ReportTarget {
  const trials = planTrials(exp);
  const ids = [...new Set(trials.map((t) => t.baselineId)), ...trials.map((t) => t.id)];
  return { name: exp.name, only: new Map(ids.map((id, i) => [id, i])), reference: exp.reference };
}

export type OutputFormat = 'terminal' | 'markdown' | 'csv' | 'json' | 'html';
const FORMATS: OutputFormat[] = [...REPORT_FORMATS, 'json', 'html'];

export function checkFormat(format: string | undefined, allowed: OutputFormat[] = FORMATS.filter((f) => f !== 'html')): OutputFormat {
  const f = (format ?? 'terminal') as OutputFormat;
  if (!allowed.includes(f)) throw new ConfigError(`unknown format '${format}'; expected one of ${allowed.join(', ')}`, { location: { path: '--format' } });
  return f;
}

/** Any table in any text format. */
export function renderAs(t: Table, format: OutputFormat, width: number): string {
  return format === 'json' ? renderJson(t) : renderTable(t, format as 'terminal' | 'markdown' | 'csv', width);
}

/** `--pivot rows:columns[:metric]`, e.g. `quantize-weights.bits:quantize-weights.scheme:accuracy`. */
function parsePivot(spec: string): { rows: string; columns: string; metric: string } {
  const [rows, columns, metric = 'accuracy', ...rest] = spec.split(':');
  if (!rows || !columns || rest.length) throw new ConfigError(`--pivot expects rows:columns[:metric] (param keys and a metric key), got '${spec}'`, { location: { path: '--pivot' } });
  return { rows, columns, metric };
}

/** The params and metrics the comparison table reads (with a reference block's and a pivot's). */
const TABLE_METRICS = ['accuracy', 'accuracy_delta', 'loss', 'weights_changed_fraction', 'weights_kept_fraction', 'weight_bits', 'activation_bits', 'artifact_bytes', 'compression_ratio'];

function neededKeys(target: ReportTarget, pivot: string | undefined): { params: string[]; metrics: string[] } {
  const params = new Set(['model', 'epochs']);
  const metrics = new Set(TABLE_METRICS);
  for (const row of target.reference?.rows ?? []) {
    Object.keys(row.params ?? {}).forEach((k) => params.add(k));
    Object.keys(row.metrics).forEach((k) => metrics.add(k));
  }
  if (pivot) {
    const p = parsePivot(pivot);
    params.add(p.rows).add(p.columns);
    metrics.add(p.metric);
  }
  return { params: [...params], metrics: [...metrics] };
}

export function printReport(store: SqliteStore, target: ReportTarget, format: OutputFormat, io: IO, out?: string, pivot?: string): void {
  const { name, only } = target;
  // The HTML page plots per-layer sizes and groups by every param: it loads everything.
  const all = store.listRuns(name, format === 'html' ? undefined : neededKeys(target, pivot));
  const runs = only ? all.filter((r) => only.has(r.trialId)).sort((a, b) => only.get(a.trialId)! - only.get(b.trialId)!) : all;
  if (!runs.length && all.length) throw new ConfigError(`no runs yet for the trials ${name}'s file plans now; run it first (squash run <file>)`);
  if (!runs.length) {
    const known = store.experiments().map((e) => e.name);
    const near = didYouMean(name, known);
    throw new ConfigError(`no runs for experiment '${name}'${near ? `; did you mean '${near}'?` : ''}; known: ${known.join(', ') || '(none)'}`);
  }
  // Cut long labels only on a terminal; piped output keeps every character.
  const width = process.stdout.isTTY ? process.stdout.columns : Infinity;
  let text: string;
  if (format === 'html') {
    text = renderHtml(name, runs, { generatedAt: new Date().toISOString() });
    out ??= join(dirname(store.path), 'reports', `${name}.html`);
    mkdirSync(dirname(out), { recursive: true });
  } else {
    const tables = [pivot ? pivotTable(runs, parsePivot(pivot)) : reportTable(name, runs)];
    if (target.reference) tables.push(referenceTable(target.reference, runs));
    text = tables.map((t) => renderAs(t, format, width)).join('\n');
  }
  if (out) {
    writeFileSync(out, text);
    io.err(`wrote ${out}\n`);
  } else io.out(text);
}

export async function report(args: ParsedArgs, io: IO): Promise<number> {
  const format = checkFormat(args.format, FORMATS);
  const target = reportTarget(args.target!);
  const { db } = defaultPaths(args.db);
  if (!existsSync(db)) throw new ConfigError(`no database at ${db}; run an experiment first (squash run <file>) or pass --db`);
  const store = SqliteStore.openReadOnly(db);
  try {
    printReport(store, target, format, io, args.out, args.pivot);
  } finally {
    store.close();
  }
  return 0;
}
