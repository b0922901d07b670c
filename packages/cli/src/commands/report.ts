import { existsSync, writeFileSync } from 'node:fs';
import { ConfigError, didYouMean } from '@squash/core';
import { defaultPaths, loadExperimentFile, planTrials, SqliteStore, type Experiment } from '@squash/runner';
import { comparisonTable, referenceTable, renderTable, REPORT_FORMATS, type ReportFormat } from '@squash/reporter';
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

export function checkFormat(format: string | undefined): ReportFormat {
  const f = (format ?? 'terminal') as ReportFormat;
  if (!REPORT_FORMATS.includes(f)) throw new ConfigError(`unknown format '${format}'; expected one of ${REPORT_FORMATS.join(', ')}`, { location: { path: '--format' } });
  return f;
}

export function printReport(store: SqliteStore, target: ReportTarget, format: ReportFormat, io: IO, out?: string): void {
  const { name, only } = target;
  const all = store.listRuns(name);
  const runs = only ? all.filter((r) => only.has(r.trialId)).sort((a, b) => only.get(a.trialId)! - only.get(b.trialId)!) : all;
  if (!runs.length && all.length) throw new ConfigError(`no runs yet for the trials ${name}'s file plans now; run it first (squash run <file>)`);
  if (!runs.length) {
    const known = store.experiments().map((e) => e.name);
    const near = didYouMean(name, known);
    throw new ConfigError(`no runs for experiment '${name}'${near ? `; did you mean '${near}'?` : ''}; known: ${known.join(', ') || '(none)'}`);
  }
  // Cut long labels only on a terminal; piped output keeps every character.
  const width = process.stdout.isTTY ? process.stdout.columns : Infinity;
  let text = renderTable(comparisonTable(name, runs), format, width);
  if (target.reference) text += '\n' + renderTable(referenceTable(target.reference, runs), format, width);
  if (out) {
    writeFileSync(out, text);
    io.err(`wrote ${out}\n`);
  } else io.out(text);
}

export async function report(args: ParsedArgs, io: IO): Promise<number> {
  const format = checkFormat(args.format);
  const target = reportTarget(args.target!);
  const { db } = defaultPaths(args.db);
  if (!existsSync(db)) throw new ConfigError(`no database at ${db}; run an experiment first (squash run <file>) or pass --db`);
  const store = SqliteStore.openReadOnly(db);
  try {
    printReport(store, target, format, io, args.out);
  } finally {
    store.close();
  }
  return 0;
}
