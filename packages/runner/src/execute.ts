import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendPreference } from '@squash/backend';
import { planTrials, trialLabel } from './plan.js';
import { ensureBaselines } from './run/baselines.js';
import { loadExperimentData, startHeartbeat, workerIdentity } from './run/context.js';
import type { Emit, RunEvent, RunSummary } from './run/events.js';
import { workLoop } from './run/work.js';
import type { Experiment, Trial } from './spec/types.js';
import type { RunStore } from '@squash/store';

export { CALIBRATION_SAMPLES } from './run/context.js';
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
  /** Lets the caller mark the run in progress KILLED on a signal. */
  current?: { runId?: string };
}

const WORKER = fileURLToPath(new URL('./run/worker_main.js', import.meta.url));

/**
 * Runs every trial of an experiment that is not already FINISHED: baselines first (each trained
 * once, cached), then the trials, in this process or in `jobs` worker processes that claim trials
 * from the database. A failing trial is stored FAILED and the rest go on.
 */
export async function runExperiment(exp: Experiment, opts: RunOptions): Promise<RunSummary> {
  const { store } = opts;
  const emit: Emit = opts.onEvent ?? (() => {});
  const jobs = Math.max(1, opts.jobs ?? 1);
  const backend = await selectBackend({ prefer: opts.backend });
  const identity = workerIdentity(backend.name, randomUUID());
  const trials = planTrials(exp);
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
        label: trialLabel(t.stages),
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
    try {
      const data = await loadExperimentData(exp);
      const baselines = await ensureBaselines(pending, {
        store,
        experimentId,
        sweepId,
        identity,
        heartbeat,
        data,
        cacheDir: opts.cacheDir,
        emit,
      });
      // This process is one of the `jobs` workers: it already holds the data and baselines.
      const helpers =
        jobs > 1
          ? runWorkers(
              jobs - 1,
              {
                exp,
                trials,
                db: store.path,
                cacheDir: opts.cacheDir,
                artifactDir,
                backend: opts.backend,
                invocation: identity.invocation,
                force: !!opts.force,
                failFast: !!opts.failFast,
              },
              count,
            )
          : Promise.resolve();
      const own = workLoop(pending, {
        exp,
        store,
        experimentId,
        sweepId,
        identity,
        heartbeat,
        data,
        baselines,
        artifactDir,
        stateCacheDir: join(opts.cacheDir, 'states'),
        force: !!opts.force,
        failFast: !!opts.failFast,
        emit: count,
        current: opts.current ?? {},
      });
      await Promise.all([own, helpers]);
      for (const b of baselines.values()) b.model.dispose();
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

export interface WorkerInit {
  exp: Experiment;
  /** The plan, as this process computed it: workers do not plan again. */
  trials: Trial[];
  db: string;
  cacheDir: string;
  artifactDir: string;
  backend?: BackendPreference;
  invocation: string;
  force: boolean;
  failFast: boolean;
}

/** Forks `count` workers that claim trials from the database; relays their events; forwards Ctrl-C. */
async function runWorkers(count: number, init: WorkerInit, emit: Emit): Promise<void> {
  const children = Array.from({ length: count }, () =>
    fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const forward = () => children.forEach((c) => c.connected && c.kill('SIGINT'));
  process.on('SIGINT', forward);
  try {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolveChild, reject) => {
            child.on('message', (m: { type: string }) => m.type !== 'worker-done' && emit(m as RunEvent));
            child.on('error', reject);
            child.on('exit', (code, signal) =>
              code === 0
                ? resolveChild()
                : reject(new Error(`worker ${child.pid} exited with ${signal ?? `code ${code}`}`)),
            );
            child.send(init);
          }),
      ),
    );
  } finally {
    process.off('SIGINT', forward);
  }
}
