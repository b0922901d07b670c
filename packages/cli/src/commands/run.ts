import { existsSync } from 'node:fs';
import { backendPreference, selectBackend } from '@squash/backend';
import { ConfigError } from '@squash/core';
import { renderTable } from '@squash/reporter';
import {
  type Experiment,
  InterruptedError,
  loadExperimentData,
  loadExperimentFile,
  planTrials,
  type RunEvent,
  runExperiment,
  runSearches,
  storedSearches,
  type RunSummary,
  type SearchesResult,
  trialLabel,
} from '@squash/runner';
import { renderSearchOutcome, searchOutcomeJson } from '../search_print.js';
import { defaultPaths, SqliteStore } from '@squash/store';
import { type IO, outputWidth } from '../io.js';
import { CONFIRM_ABOVE } from '../options.js';
import type { TableFormat } from '../output.js';
import { progressBar, progressLine } from '../progress.js';
import { planned, printReport } from '../report_print.js';
import { stoppable } from '../signals.js';
import { stoppedSweep } from '../stopped.js';

export interface RunOptions {
  db?: string;
  /** Checked by `backendPreference`, which also reads SQUASH_BACKEND and knows the aliases. */
  backend?: string;
  jobs: number;
  force?: boolean;
  failFast?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  quiet?: boolean;
  json?: boolean;
  format: TableFormat;
  out?: string;
  /** Through a BullMQ queue on Redis: this process enqueues and records, `squash worker`s compute. */
  queue?: string;
  queueName?: string;
  /** With `queue`: enqueue and exit; `squash collect` records. */
  detach?: boolean;
}

export function eventSink(opts: { json?: boolean; quiet?: boolean }, io: IO): (e: RunEvent) => void {
  if (opts.json) return (e) => io.out(`${JSON.stringify(e)}\n`);
  if (opts.quiet) return () => {};
  if (process.stderr.isTTY) {
    // The bar shows epochs in place (baseline, or trial · stage · round · epoch).
    return progressBar(io.err, process.stderr.columns || 100);
  }
  return (e) => {
    const line = progressLine(e);
    if (line) io.err(`${line}\n`);
  };
}

const NOTHING_RUN = { finished: 0, skipped: 0, failed: 0, killed: 0, elsewhere: 0 };

/** `--dry-run`: the expanded trials and what the database already has, without writing anything. */
function dryRun(exp: Experiment, db: string, io: IO): number {
  const trials = planTrials(exp);
  const store = existsSync(db) ? SqliteStore.openReadOnly(db) : undefined;
  const latest = store?.latestByTrial(exp.name) ?? new Map();
  const searched = store && exp.searches.length ? storedSearches(store, exp).outcomes : [];
  store?.close();
  const rows = trials.map((t, i) => ({
    n: i + 1,
    sweep: t.sweep,
    trial: trialLabel(t.stages, t.trainAxes),
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
      outputWidth(),
    ),
  );
  for (const spec of exp.searches) {
    const done = searched.find((o) => o.search === spec.name)?.candidates.filter((c) => c.run?.status === 'FINISHED');
    io.out(
      `search '${spec.name}': ${spec.strategy} strategy, up to ${spec.budget.trials} candidates in batches of ${spec.batch}` +
        `${spec.budget.minutes ? ` or ${spec.budget.minutes} min` : ''}, ${spec.objective.text}` +
        `${spec.constraints.length ? ` subject to ${spec.constraints.map((c) => c.text).join(' and ')}` : ''}` +
        `; ${done?.length ?? 0} finished so far\n`,
    );
  }
  return 0;
}

/**
 * `squash run <file>`. Checks everything, the data files included, before opening the database (bad
 * input writes nothing), runs, then prints the table. SIGINT, SIGTERM and SIGHUP stop the run: the
 * trials in progress end KILLED, the next run does them again (InterruptedError, exit 128 + n).
 * Exit 1 when a trial failed.
 */
export async function run(file: string, opts: RunOptions, io: IO): Promise<number> {
  const backend = backendPreference(opts.backend);
  const experiment = loadExperimentFile(file);
  const paths = defaultPaths(opts.db);
  if (opts.dryRun) return dryRun(experiment, paths.db, io);
  const count = planTrials(experiment).length;
  if (count > CONFIRM_ABOVE && !opts.yes) {
    throw new ConfigError(
      `the grid expands to ${count} trials (more than ${CONFIRM_ABOVE}); check it with --dry-run, then rerun with --yes`,
      { location: { file } },
    );
  }
  if (opts.detach && !opts.queue) throw new ConfigError('--detach needs --queue', { location: { path: '--detach' } });
  if (opts.queue && opts.jobs > 1)
    throw new ConfigError('--jobs and --queue exclude each other: with --queue, start a squash worker per machine', {
      location: { path: '--jobs' },
    });
  // Stoppable while it runs; the report after it is like any other command's output.
  if (opts.detach && experiment.searches.length)
    throw new ConfigError(
      'a search waits for each batch of candidates before proposing the next: --detach cannot run it',
      {
        location: { path: '--detach' },
      },
    );
  const { store, summary, searched } = await stoppable<{
    store: SqliteStore;
    summary: RunSummary;
    searched?: SearchesResult;
  }>(async (stop) => {
    if (opts.queue) {
      const { throughQueue } = await import('./queue_run.js');
      return throughQueue(experiment, { ...opts, queue: opts.queue, backend }, 'run', eventSink(opts, io), stop);
    }
    // What can still fail on input (the backend asked for, the data files) fails before the database opens.
    await selectBackend({ prefer: backend });
    const data = await loadExperimentData(experiment);
    stop.throwIfRequested();
    const store = SqliteStore.open(paths.db);
    try {
      const runOpts = {
        store,
        cacheDir: paths.cacheDir,
        backend,
        jobs: opts.jobs,
        force: !!opts.force,
        failFast: !!opts.failFast,
        data,
        stop,
        onEvent: eventSink(opts, io),
      };
      const summary = planTrials(experiment).length ? await runExperiment(experiment, runOpts) : NOTHING_RUN;
      if (!experiment.searches.length) return { store, summary };
      const searched = await runSearches(experiment, runOpts);
      return { store, summary, searched };
    } catch (e) {
      // The progress bar's line is left open on a terminal.
      if (e instanceof InterruptedError && process.stderr.isTTY && !opts.quiet && !opts.json) io.err('\n');
      // A full disk or an unusable database: say what is stored and the command that does the rest.
      const error = stoppedSweep(e, store, experiment, { file, db: opts.db });
      store.close();
      throw error;
    }
  });
  try {
    if (opts.detach) {
      if (!opts.quiet && !opts.json)
        io.err(
          `enqueued; record the results with: squash collect ${file} --queue <url>${opts.db ? ` --db ${opts.db}` : ''}\n`,
        );
      return 0;
    }
    if (!opts.json) {
      if (!opts.quiet) io.err(`database ${paths.db}\n\n`);
      printReport(store, await planned(searched?.experiment ?? experiment), opts.format, io, { out: opts.out });
      for (const o of searched?.outcomes ?? []) io.out(`\n${renderSearchOutcome(o, opts.format)}`);
    }
    if (opts.json) for (const o of searched?.outcomes ?? []) io.out(`${JSON.stringify(searchOutcomeJson(o))}\n`);
    return summary.failed || searched?.failed ? 1 : 0;
  } finally {
    store.close();
  }
}
