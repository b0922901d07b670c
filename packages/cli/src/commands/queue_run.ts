import type { BackendPreference } from '@squash/backend';
import {
  type Experiment,
  InterruptedError,
  loadExperimentData,
  type RunEvent,
  planTrials,
  type RunSummary,
  runSearches,
  type SearchesResult,
  storedSearches,
  type StopRequest,
} from '@squash/runner';
import { claimQueueFor, holdRecorderOf, openQueue, parseQueueTarget, runQueued, collectQueued } from '@squash/queue';
import { defaultPaths, SqliteStore } from '@squash/store';
import { stoppedSweep } from '../stopped.js';

export interface QueueFlags {
  queue: string;
  queueName?: string;
  db?: string;
  force?: boolean;
  detach?: boolean;
  /** The backend of this process: it trains the searches' baseline and measures their curves. */
  backend?: BackendPreference;
}

/**
 * `run --queue` and `collect`: everything that can fail on input — the data, Redis unreachable or
 * refusing the password, the queue holding another experiment's jobs, another recorder — fails
 * before the database is opened, so it writes nothing.
 */
export async function throughQueue(
  experiment: Experiment,
  flags: QueueFlags,
  mode: 'run' | 'collect',
  emit: (e: RunEvent) => void,
  stop: StopRequest,
): Promise<{ store: SqliteStore; summary: RunSummary & { added?: number }; searched?: SearchesResult }> {
  const target = parseQueueTarget(flags.queue, flags.queueName);
  const paths = defaultPaths(flags.db);
  // The recorder checks what it can; the workers load the data on their machines.
  if (mode === 'run') await loadExperimentData(experiment);
  const session = await openQueue(target);
  let lock: { release(): Promise<void> } | undefined;
  try {
    await claimQueueFor(session, experiment);
    if (!flags.detach) lock = await holdRecorderOf(session);
    stop.throwIfRequested();
    const store = SqliteStore.open(paths.db);
    try {
      const opts = {
        session,
        store,
        cacheDir: paths.cacheDir,
        artifactDir: paths.artifactDir,
        force: !!flags.force,
        detach: !!flags.detach,
        emit,
        stop,
      };
      const planned = planTrials(experiment).length > 0;
      const summary =
        mode === 'collect'
          ? // A search's candidates in the queue are in the text recorded when they were enqueued.
            await collectQueued(
              experiment.searches.length ? storedSearches(store, experiment).experiment : experiment,
              opts,
            )
          : planned
            ? await runQueued(experiment, opts)
            : { finished: 0, skipped: 0, failed: 0, killed: 0, elsewhere: 0, added: 0 };
      if (mode === 'collect' || !experiment.searches.length) return { store, summary };
      // Each batch of candidates goes through the queue; this process proposes, records and judges.
      const searched = await runSearches(experiment, {
        store,
        cacheDir: paths.cacheDir,
        artifactDir: paths.artifactDir,
        backend: flags.backend,
        force: !!flags.force,
        stop,
        onEvent: emit,
        runBatch: (e, only) => runQueued(e, { ...opts, only }),
      });
      return { store, summary, searched };
    } catch (e) {
      const error =
        e instanceof InterruptedError
          ? e
          : stoppedSweep(e, store, experiment, { file: experiment.file ?? '', db: flags.db });
      store.close();
      throw error;
    }
  } finally {
    await lock?.release();
    await session.close();
  }
}
