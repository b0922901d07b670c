import { join } from 'node:path';
import { selectBackend } from '@squash/backend';
import { InternalError, SquashError } from '@squash/core';
import { SqliteStore } from '@squash/store';
import { ensureBaselines } from './baselines.js';
import { loadExperimentData, startHeartbeat, workerIdentity } from './context.js';
import { InterruptedError, type Stop, StopRequest } from './stop.js';
import { workLoop } from './work.js';
import type { FromWorker, ToWorker, WorkerInit } from './workers.js';

/**
 * A worker process of `squash run --jobs N`, owned by the process that forked it. It stops, the
 * trial in progress marked KILLED and no trial started after, when the parent asks, when it gets
 * SIGINT/SIGTERM/SIGHUP itself (Ctrl-C reaches the whole group), and when the parent is gone
 * (the IPC channel closes, or it has a new parent pid: it was orphaned).
 */
const stop = new StopRequest();
stop.listen();
const PARENT_GONE: Stop = { reason: 'the squash run process that started this worker went away', exitCode: 1 };
const parentPid = process.ppid;
process.on('disconnect', () => stop.request(PARENT_GONE));
setInterval(() => process.ppid !== parentPid && stop.request(PARENT_GONE), 1000).unref();
// Its output is the parent's terminal or pipe: a closed one must not end it with a stack.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

const send = (m: FromWorker, then?: () => void) => {
  if (process.connected) process.send!(m, undefined, {}, () => then?.());
  else then?.();
};

process.on('message', (m: ToWorker) => {
  if (m.type === 'stop') stop.request(m.stop);
  if (m.type === 'init') void work(m.init).then((code) => send({ type: 'worker-done' }, () => process.exit(code)));
});

/** Claims and runs trials until none is left or a stop; returns the exit code. */
async function work(init: WorkerInit): Promise<number> {
  let store: SqliteStore | undefined;
  try {
    store = SqliteStore.open(init.db);
    const backend = await selectBackend({ prefer: init.backend });
    const heartbeat = startHeartbeat((ids) => store!.heartbeat(ids));
    try {
      const env = {
        store,
        experimentId: init.experimentId,
        sweepId: init.sweepId,
        identity: workerIdentity(backend.name, init.invocation),
        heartbeat,
        data: await loadExperimentData(init.exp),
        stop,
      };
      const baselines = await ensureBaselines(init.trials, { ...env, cacheDir: init.cacheDir, emit: () => {} });
      await workLoop(init.trials, {
        ...env,
        exp: init.exp,
        baselines,
        artifactDir: init.artifactDir,
        stateCacheDir: join(init.cacheDir, 'states'),
        force: init.force,
        failFast: init.failFast,
        emit: send,
      });
      return 0;
    } finally {
      heartbeat.stop();
    }
  } catch (e) {
    if (e instanceof InterruptedError) return e.exitCode;
    // A Squash error (a full disk) is a message for the user; anything else is a bug: its stack.
    const message =
      e instanceof SquashError && !(e instanceof InternalError) ? e.describe() : ((e as Error).stack ?? String(e));
    process.stderr.write(`squash: worker ${process.pid}: ${message}\n`);
    return e instanceof SquashError ? e.exitCode : 1;
  } finally {
    store?.close();
  }
}
