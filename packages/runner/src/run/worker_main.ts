import { join } from 'node:path';
import { selectBackend } from '@squash/backend';
import { InternalError, SquashError } from '@squash/core';
import type { WorkerInit } from '../execute.js';
import { SqliteStore } from '@squash/store';
import { ensureBaselines } from './baselines.js';
import { loadExperimentData, startHeartbeat, workerIdentity } from './context.js';
import type { RunEvent } from './events.js';
import { workLoop } from './work.js';

/**
 * A worker process of `squash run --jobs N`: opens the database itself and claims trials until
 * none is left. If the parent goes away or Ctrl-C arrives, the trial in progress is marked
 * KILLED, so the next run does it again.
 */
process.once('message', (init: WorkerInit) => {
  const store = SqliteStore.open(init.db);
  const current: { runId?: string } = {};
  const stop = (why: string) => {
    if (current.runId) store.setStatus(current.runId, 'KILLED', why);
    store.close();
    process.exit(130);
  };
  process.on('SIGINT', () => stop('interrupted (SIGINT)'));
  const onDisconnect = () => stop('the squash run process that started this worker went away');
  process.on('disconnect', onDisconnect);
  const emit = (e: RunEvent) => process.connected && process.send?.(e);
  (async () => {
    const backend = await selectBackend({ prefer: init.backend });
    const identity = workerIdentity(backend.name, init.invocation);
    const experimentId = store.ensureExperiment(init.exp.name, init.exp.description);
    const sweepId = store.recordSweep(experimentId, init.exp.text ?? JSON.stringify(init.exp), init.exp.file);
    const { trials } = init;
    const heartbeat = startHeartbeat((ids) => store.heartbeat(ids));
    const data = await loadExperimentData(init.exp);
    const baselines = await ensureBaselines(trials, {
      store,
      experimentId,
      sweepId,
      identity,
      heartbeat,
      data,
      cacheDir: init.cacheDir,
      emit: () => {},
    });
    await workLoop(trials, {
      exp: init.exp,
      store,
      experimentId,
      sweepId,
      identity,
      heartbeat,
      data,
      baselines,
      artifactDir: init.artifactDir,
      stateCacheDir: join(init.cacheDir, 'states'),
      force: init.force,
      failFast: init.failFast,
      emit,
      current,
    });
    heartbeat.stop();
    store.close();
    // The callback runs once every event before it has reached the parent.
    process.off('disconnect', onDisconnect);
    process.send!({ type: 'worker-done' }, () => process.exit(0));
  })().catch((e: unknown) => {
    // A Squash error (a full disk) is a message for the user; anything else is a bug: its stack.
    const text =
      e instanceof SquashError && !(e instanceof InternalError) ? e.describe() : ((e as Error).stack ?? String(e));
    process.stderr.write(`squash worker ${process.pid}: ${text}\n`);
    process.exit(1);
  });
});
