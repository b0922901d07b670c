import {
  type Experiment,
  plannedTrials,
  type RunEvent,
  type RunSummary,
  type StopRequest,
  trialLabel,
} from '@squash/runner';
import type { RunStore } from '@squash/store';
import { enqueueTrials, type QueueSession, recordResults } from './recorder.js';

export interface QueuedRunOptions {
  session: QueueSession;
  store: RunStore;
  cacheDir: string;
  artifactDir: string;
  force?: boolean;
  /** Enqueue and return: `squash collect` records later. */
  detach?: boolean;
  emit: (e: RunEvent) => void;
  stop: StopRequest;
  pollMs?: number;
  /** Only these trials of the plan (a search's batch); absent: every trial. */
  only?: ReadonlySet<string>;
}

/** The experiment's rows and which of its trials are still to do (every one with `force`). */
function prepare(exp: Experiment, opts: QueuedRunOptions) {
  const { store } = opts;
  const trials = plannedTrials(exp, opts.only);
  const experimentId = store.ensureExperiment(exp.name, exp.description);
  const sweepId = store.recordSweep(experimentId, exp.text ?? JSON.stringify(exp), exp.file);
  const before = store.latestByTrial(exp.name);
  const done = new Set(
    opts.force ? [] : trials.filter((t) => before.get(t.id)?.status === 'FINISHED').map((t) => t.id),
  );
  return { trials, experimentId, sweepId, done, pending: trials.filter((t) => !done.has(t.id)) };
}

function announce(exp: Experiment, p: ReturnType<typeof prepare>, reason: string, opts: QueuedRunOptions): void {
  const { trials, done } = p;
  opts.emit({
    type: 'start',
    experiment: exp.name,
    trials: trials.length,
    done: done.size,
    backend: 'queue',
    reason,
    jobs: 1,
  });
  trials.forEach(
    (t, i) =>
      done.has(t.id) &&
      opts.emit({
        type: 'trial',
        trialId: t.id,
        sweep: t.sweep,
        label: trialLabel(t.stages, t.trainAxes),
        status: 'SKIPPED',
        index: i + 1,
        total: trials.length,
      }),
  );
}

/**
 * `squash run --queue`: enqueues every trial not already FINISHED (idempotent: job id = trial id)
 * and records the results as workers return them, until the queue is empty; with `detach`, returns
 * after enqueueing. The caller has checked the queue may take this experiment and holds the recorder.
 */
export async function runQueued(exp: Experiment, opts: QueuedRunOptions): Promise<RunSummary & { added: number }> {
  const p = prepare(exp, opts);
  const { added, present } = await enqueueTrials(opts.session, exp, p.pending, opts);
  const where = `queue '${opts.session.target.name}' at ${opts.session.target.display}`;
  announce(exp, p, `${added} jobs added to ${where}${present ? `, ${present} were there already` : ''}`, opts);
  const summary = { finished: 0, skipped: p.done.size, failed: 0, killed: 0, elsewhere: 0 };
  if (opts.detach) return { ...summary, elsewhere: p.pending.length, added };
  return { ...(await record(exp, p, opts)), added };
}

/** `squash collect`: records what the queue holds (and waits for the rest), enqueueing nothing. */
export async function collectQueued(exp: Experiment, opts: QueuedRunOptions): Promise<RunSummary> {
  const p = prepare(exp, opts);
  announce(exp, p, `recording queue '${opts.session.target.name}' at ${opts.session.target.display}`, opts);
  return record(exp, p, opts);
}

async function record(exp: Experiment, p: ReturnType<typeof prepare>, opts: QueuedRunOptions): Promise<RunSummary> {
  const s = await recordResults(opts.session, exp, {
    ...opts,
    experimentId: p.experimentId,
    sweepId: p.sweepId,
    total: p.pending.length,
  });
  const summary = { ...s, skipped: s.skipped + p.done.size };
  opts.emit({ type: 'done', ...summary });
  return summary;
}
