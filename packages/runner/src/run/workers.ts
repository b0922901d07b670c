import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BackendPreference } from '@squash/backend';
import { SquashError } from '@squash/core';
import type { RunStore } from '@squash/store';
import type { Experiment, Trial } from '../spec/types.js';
import type { Emit, RunEvent } from './events.js';
import { signalExitCode, signalOfExitCode, type Stop, type StopRequest } from './stop.js';

/** What a worker is given: everything it needs to claim and run trials, nothing it must write first. */
export interface WorkerInit {
  exp: Experiment;
  /** The pending trials, as the parent planned them: workers do not plan again. */
  trials: Trial[];
  db: string;
  experimentId: number;
  sweepId: number;
  cacheDir: string;
  artifactDir: string;
  backend?: BackendPreference;
  invocation: string;
  force: boolean;
  failFast: boolean;
}

/** Parent → worker: the work once, then a stop if the run ends early. */
export type ToWorker = { type: 'init'; init: WorkerInit } | { type: 'stop'; stop: Stop };
/** Worker → parent: its run events, then `worker-done` once every event before it was sent. */
export type FromWorker = RunEvent | { type: 'worker-done' };

const WORKER = fileURLToPath(new URL('./worker_main.js', import.meta.url));

/** How long stopped workers get to mark their trials KILLED and exit before they are SIGKILLed. */
const GRACE_MS = 10_000;

const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
const ignore = () => {};

export interface SupervisorEnv {
  store: RunStore;
  emit: Emit;
  stop: StopRequest;
}

/**
 * The native kernels' threads in each of `jobs` worker processes: the cores shared out (at least
 * one each), so jobs × threads never oversubscribes the machine (measured in the README's
 * bench:train section); SQUASH_NATIVE_THREADS, when set, wins.
 */
export function nativeThreadsPerWorker(jobs: number): string {
  return process.env.SQUASH_NATIVE_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / jobs)));
}

/**
 * Forks `count` workers and owns them until each has exited: a stop request is passed on to every
 * worker (a forced one SIGKILLs them, as does outliving GRACE_MS after the stop); a worker that ends
 * abnormally stops the whole run, and the RUNNING runs it left are marked KILLED here. Resolves
 * when every worker has exited; rejects when one failed on an error (not on a stop).
 */
export async function superviseWorkers(count: number, init: WorkerInit, env: SupervisorEnv): Promise<void> {
  const env_ = { ...process.env, SQUASH_NATIVE_THREADS: nativeThreadsPerWorker(count) };
  const children = Array.from({ length: count }, () =>
    fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: env_ }),
  );
  let grace: NodeJS.Timeout | undefined;
  const passOn = (stop: Stop, force: boolean) => {
    for (const c of children.filter(alive)) {
      if (force) c.kill('SIGKILL');
      else if (c.connected) c.send({ type: 'stop', stop: { reason: stop.reason, exitCode: stop.exitCode } }, ignore);
      else c.kill('SIGTERM');
    }
    grace ??= setTimeout(() => children.filter(alive).forEach((c) => c.kill('SIGKILL')), GRACE_MS);
  };
  const off = env.stop.onRequest(passOn);
  let failure: SquashError | undefined;
  const exits = children.map(
    (child) =>
      new Promise<void>((resolve) => {
        child.on('message', (m: FromWorker) => m.type !== 'worker-done' && env.emit(m));
        child.on('error', (e) => {
          // The fork itself failed (no process, so no 'exit' follows).
          if (child.pid !== undefined) return;
          failure ??= new SquashError(`could not start a worker process: ${e.message}`);
          env.stop.request({ reason: 'a worker process could not start', exitCode: 1 });
          resolve();
        });
        child.once('exit', (code, signal) => {
          if (code !== 0) {
            const stop = workerStop(child.pid!, code, signal);
            markKilled(env.store, child.pid!, stop.reason);
            if (!signal && !signalOfExitCode(code!) && !env.stop.stop) {
              failure ??= new SquashError(`${stop.reason} (its message is above)`, {}, code!);
            }
            env.stop.request(stop);
          }
          resolve();
        });
        child.send({ type: 'init', init } satisfies ToWorker, ignore);
      }),
  );
  if (env.stop.stop) passOn(env.stop.stop, false);
  try {
    await Promise.all(exits);
  } finally {
    off();
    clearTimeout(grace);
  }
  if (failure) throw failure;
}

/** Why a worker's exit stops the run; the exit code the run then ends with. */
function workerStop(pid: number, code: number | null, signal: NodeJS.Signals | null): Stop {
  if (signal) return { reason: `worker ${pid} was killed by ${signal}`, exitCode: signalExitCode(signal) };
  const received = signalOfExitCode(code!);
  if (received) return { reason: `worker ${pid} was interrupted by ${received}`, exitCode: code! };
  return { reason: `worker ${pid} failed (exit code ${code})`, exitCode: code! };
}

/** A worker that died without cleaning up (SIGKILL, a crash) leaves its runs RUNNING: they end KILLED now. */
function markKilled(store: RunStore, pid: number, reason: string): void {
  const host = hostname();
  const running = store.searchRuns("attributes.status = 'RUNNING'", { columns: ['run_id'] }).rows;
  for (const { run_id } of running) {
    const where = store.runDetails(String(run_id));
    if (where.pid === pid && where.host === host) store.setStatus(String(run_id), 'KILLED', reason);
  }
}
