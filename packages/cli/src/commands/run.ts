import { existsSync } from 'node:fs';
import { ConfigError } from '@squash/core';
import { backendPreference } from '@squash/backend';
import {
  loadExperimentFile,
  planTrials,
  runExperiment,
  trialLabel,
  type Experiment,
  type RunEvent,
} from '@squash/runner';
import { defaultPaths, SqliteStore } from '@squash/store';
import { renderTable } from '@squash/reporter';
import type { ParsedArgs } from '../cli.js';
import { progressBar, progressLine } from './progress.js';
import { checkFormat, planned, printReport, type IO } from './report.js';

/** Above this many trials a run asks for --yes, so a typo in a range cannot start hours of work. */
export const CONFIRM_ABOVE = 500;

function eventSink(args: ParsedArgs, io: IO): (e: RunEvent) => void {
  if (args.json) return (e) => io.out(`${JSON.stringify(e)}\n`);
  if (args.quiet) return () => {};
  if (process.stderr.isTTY) {
    const bar = progressBar(io.err, process.stderr.columns || 100);
    return (e) => (e.type === 'epoch' ? undefined : bar(e));
  }
  return (e) => {
    const line = progressLine(e);
    if (line) io.err(`${line}\n`);
  };
}

/** `--dry-run`: the expanded trials and what the database already has, without writing anything. */
function dryRun(exp: Experiment, db: string, io: IO): number {
  const trials = planTrials(exp);
  const store = existsSync(db) ? SqliteStore.openReadOnly(db) : undefined;
  const latest = store?.latestByTrial(exp.name) ?? new Map();
  store?.close();
  const rows = trials.map((t, i) => ({
    n: i + 1,
    sweep: t.sweep,
    trial: trialLabel(t.stages),
    seed: t.baseline.seed,
    id: t.id,
    status: latest.get(t.id)?.status ?? 'to run',
  }));
  io.out(
    renderTable(
      {
        title: `${exp.name}: ${trials.length} trials, ${rows.filter((r) => r.status === 'FINISHED').length} finished, ${rows.filter((r) => r.status !== 'FINISHED').length} to run (dry run: nothing written)`,
        columns: [
          { key: 'n', title: '#', align: 'right' },
          { key: 'sweep', title: 'sweep', align: 'left' },
          { key: 'trial', title: 'trial', align: 'left' },
          { key: 'seed', title: 'seed', align: 'right' },
          { key: 'id', title: 'trial id', align: 'left' },
          { key: 'status', title: 'status', align: 'left' },
        ],
        rows,
      },
      'terminal',
      process.stdout.isTTY ? process.stdout.columns : Infinity,
    ),
  );
  return 0;
}

/**
 * Validates everything before opening the database (a bad file writes nothing), runs, then prints
 * the table. Ctrl-C marks the trial in progress KILLED so the next run does it again.
 */
export async function run(args: ParsedArgs, io: IO): Promise<number> {
  const format = checkFormat(args.format, ['terminal', 'markdown', 'csv', 'json']);
  const backend = backendPreference(args.backend);
  const jobs = args.jobs === undefined ? 1 : Number(args.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)
    throw new ConfigError(`--jobs must be an integer in [1, 64], got '${args.jobs}'`, { location: { path: '--jobs' } });
  const experiment = loadExperimentFile(args.target!);
  const paths = defaultPaths(args.db);
  if (args.dryRun) return dryRun(experiment, paths.db, io);
  const count = planTrials(experiment).length;
  if (count > CONFIRM_ABOVE && !args.yes) {
    throw new ConfigError(
      `the grid expands to ${count} trials (more than ${CONFIRM_ABOVE}); check it with --dry-run, then rerun with --yes`,
      { location: { file: args.target } },
    );
  }
  const store = SqliteStore.open(paths.db);
  const current: { runId?: string } = {};
  const onSigint = () => {
    if (current.runId) store.setStatus(current.runId, 'KILLED', 'interrupted (SIGINT)');
    store.close();
    io.err('\nsquash: interrupted; finished trials are stored, rerun to continue\n');
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    const summary = await runExperiment(experiment, {
      store,
      cacheDir: paths.cacheDir,
      backend,
      jobs,
      force: args.force,
      failFast: args.failFast,
      current,
      onEvent: eventSink(args, io),
    });
    if (!args.json) {
      if (!args.quiet) io.err(`database ${paths.db}\n\n`);
      printReport(store, await planned(experiment), format, io, { out: args.out });
    }
    return summary.failed ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    store.close();
  }
}
