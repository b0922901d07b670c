import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { selectBackend, type BackendPreference } from '@squash/backend';
import type { Dataset } from '@squash/datasets';
import type { RunStore } from '@squash/store';
import { plannedTrials, trialLabel } from './plan.js';
import { ensureBaselines } from './run/baselines.js';
import { loadExperimentData, startHeartbeat, workerIdentity } from './run/context.js';
import type { Emit, RunEvent, RunSummary } from './run/events.js';
import { InterruptedError, StopRequest } from './run/stop.js';
import { workLoop } from './run/work.js';
import { superviseWorkers } from './run/workers.js';
import type { Experiment } from './spec/types.js';

export { CALIBRATION_SAMPLES, loadExperimentData } from './run/context.js';
export type { RunEvent, RunSummary } from './run/events.js';

export interface RunOptions {
  store: RunStore;
  /** Trained baselines are cached here (default: `cache/` beside the database). */
  cacheDir: string;
  /** Compressed models (`<trial id>.sqz`) are written here (default: `artifacts/` beside the database). */
  artifactDir?: string;
  backend?: BackendPreference;
  onEvent?: (e: RunEvent) => void;
  /** Processes working on the trials: this one plus jobs − 1 forked workers (default 1). Baselines train first, here. */
  jobs?: number;
  /** Rerun trials that an earlier invocation FINISHED. */
  force?: boolean;
  /** Stop starting trials after the first failure (the default goes on). */
  failFast?: boolean;
  /** The experiment's data, already loaded and checked (`loadExperimentData`); loaded here when absent. */
  data?: Dataset;
  /**
   * Ends the run early (the CLI requests it on SIGINT/SIGTERM/SIGHUP): no trial starts after it, the
   * trials in progress end KILLED with its reason, and runExperiment throws InterruptedError.
   */
  stop?: StopRequest;
  /** Only these trials of the plan (a search's batch); absent: every trial. */
  only?: ReadonlySet<string>;
}

/**
 * Runs every trial of an experiment that is not already FINISHED: baselines first (each trained
 * once, cached), then the trials, in this process or in `jobs` worker processes that claim trials
 * from the database. A failing trial is stored FAILED and the rest go on. Nothing is written
 * before the input (data files included) has been checked.
 */
export async function runExperiment(exp: Experiment, opts: RunOptions): Promise<RunSummary> {
  const { store } = opts;
  const stop = opts.stop ?? new StopRequest();
  const emit: Emit = opts.onEvent ?? (() => {});
  const jobs = Math.max(1, opts.jobs ?? 1);
  const backend = await selectBackend({ prefer: opts.backend });
  const identity = workerIdentity(backend.name, randomUUID());
  const trials = plannedTrials(exp, opts.only);
  const data = opts.data ?? (await loadExperimentData(exp));
  stop.throwIfRequested();
  const experimentId = store.ensureExperiment(exp.name, exp.description);
  const sweepId = store.recordSweep(experimentId, exp.text ?? JSON.stringify(exp), exp.file);
  const before = store.latestByTrial(exp.name);
  const doneBefore = new Set(
    opts.force ? [] : trials.filter((t) => before.get(t.id)?.status === 'FINISHED').map((t) => t.id),
  );
  emit({
    type: 'start',
    experiment: exp.name,
    trials: trials.length,
    done: doneBefore.size,
    backend: backend.name,
    reason: backend.reason,
    jobs,
  });
  trials.forEach(
    (t, i) =>
      doneBefore.has(t.id) &&
      emit({
        type: 'trial',
        trialId: t.id,
        sweep: t.sweep,
        label: trialLabel(t.stages, t.trainAxes),
        status: 'SKIPPED',
        index: i + 1,
        total: trials.length,
      }),
  );

  const summary: RunSummary = { finished: 0, skipped: doneBefore.size, failed: 0, killed: 0, elsewhere: 0 };
  const pending = trials.filter((t) => !doneBefore.has(t.id));
  if (pending.length) {
    const count: Emit = (e) => {
      if (e.type === 'trial' && e.status === 'FINISHED') summary.finished++;
      if (e.type === 'trial' && e.status === 'FAILED') summary.failed++;
      emit(e);
    };
    const heartbeat = startHeartbeat((ids) => store.heartbeat(ids));
    const artifactDir = opts.artifactDir ?? join(dirname(opts.cacheDir), 'artifacts');
    const env = { store, experimentId, sweepId, identity, heartbeat, data, stop };
    try {
      const baselines = await ensureBaselines(pending, { ...env, cacheDir: opts.cacheDir, emit });
      // This process is one of the `jobs` workers: it already holds the data and baselines.
      const helpers =
        jobs > 1
          ? superviseWorkers(
              jobs - 1,
              {
                exp,
                trials: pending,
                db: store.path,
                experimentId,
                sweepId,
                cacheDir: opts.cacheDir,
                artifactDir,
                backend: opts.backend,
                invocation: identity.invocation,
                force: !!opts.force,
                failFast: !!opts.failFast,
              },
              { store, emit: count, stop },
            )
          : Promise.resolve();
      const own = workLoop(pending, {
        ...env,
        exp,
        baselines,
        artifactDir,
        stateCacheDir: join(opts.cacheDir, 'states'),
        force: !!opts.force,
        failFast: !!opts.failFast,
        emit: count,
      }).catch((e: unknown) => {
        // This process failed: its workers stop too, and the error is what the run ends with.
        if (!(e instanceof InterruptedError)) stop.request({ reason: 'the squash run process failed', exitCode: 1 });
        throw e;
      });
      // Workers are always awaited, whatever this process's own loop did: none outlives the run.
      const [ownEnd, helpersEnd] = await Promise.allSettled([own, helpers]);
      for (const b of baselines.values()) b.model.dispose();
      for (const end of [ownEnd, helpersEnd]) {
        if (end.status === 'rejected' && !(end.reason instanceof InterruptedError)) throw end.reason;
      }
      stop.throwIfRequested();
    } finally {
      heartbeat.stop();
    }
    const after = store.latestByTrial(exp.name);
    for (const t of pending) {
      const s = after.get(t.id)?.status;
      if (s === 'RUNNING') summary.elsewhere++;
      if (s === 'KILLED') summary.killed++;
    }
    // Trials another process finished meanwhile count as skipped here.
    summary.skipped += pending.filter((t) => after.get(t.id)?.status === 'FINISHED').length - summary.finished;
  }
  emit({ type: 'done', ...summary });
  return summary;
}
