import { existsSync, writeFileSync } from 'node:fs';
import { ConfigError, didYouMean } from '@squash/core';
import { defaultPaths, loadExperimentFile, SqliteStore } from '@squash/runner';
import { comparisonTable, renderTable, REPORT_FORMATS, type ReportFormat } from '@squash/reporter';
import type { ParsedArgs } from '../cli.js';

export type IO = { out: (s: string) => void; err: (s: string) => void };

/** An experiment file's `name`, or the argument itself when it is a name. */
export function experimentName(target: string): string {
  return /\.ya?ml$/i.test(target) ? loadExperimentFile(target).name : target;
}

export function checkFormat(format: string | undefined): ReportFormat {
  const f = (format ?? 'terminal') as ReportFormat;
  if (!REPORT_FORMATS.includes(f)) throw new ConfigError(`unknown format '${format}'; expected one of ${REPORT_FORMATS.join(', ')}`, { location: { path: '--format' } });
  return f;
}

export function printReport(store: SqliteStore, name: string, format: ReportFormat, io: IO, out?: string): void {
  const runs = store.listRuns(name);
  if (!runs.length) {
    const known = store.experiments().map((e) => e.name);
    const near = didYouMean(name, known);
    throw new ConfigError(`no runs for experiment '${name}'${near ? `; did you mean '${near}'?` : ''}; known: ${known.join(', ') || '(none)'}`);
  }
  // Cut long labels only on a terminal; piped output keeps every character.
  const text = renderTable(comparisonTable(name, runs), format, process.stdout.isTTY ? process.stdout.columns : Infinity);
  if (out) {
    writeFileSync(out, text);
    io.err(`wrote ${out}\n`);
  } else io.out(text);
}

export async function report(args: ParsedArgs, io: IO): Promise<number> {
  const format = checkFormat(args.format);
  const name = experimentName(args.target!);
  const { db } = defaultPaths(args.db);
  if (!existsSync(db)) throw new ConfigError(`no database at ${db}; run an experiment first (squash run <file>) or pass --db`);
  const store = SqliteStore.openReadOnly(db);
  try {
    printReport(store, name, format, io, args.out);
  } finally {
    store.close();
  }
  return 0;
}
