import { resolve } from 'node:path';
import { backendPreference } from '@squash/backend';
import { parseQueueTarget, startWorker, type WorkerEvent } from '@squash/queue';
import { defaultPaths } from '@squash/store';
import type { IO } from '../io.js';

export interface WorkerCommandOptions {
  queue: string;
  queueName?: string;
  concurrency: number;
  cacheDir?: string;
  backend?: string;
  json?: boolean;
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

function line(e: WorkerEvent): string {
  switch (e.type) {
    case 'ready':
      return `squash worker: taking jobs from queue '${e.queue}' at ${e.at}, ${e.concurrency} at a time`;
    case 'active':
      return `  ${e.kind} ${e.id}: running`;
    case 'completed':
      return `  ${e.kind} ${e.id}: ${e.status}${e.accuracy !== undefined ? ` ${pct(e.accuracy)}` : ''}`;
    case 'failed':
      return `  ${e.kind ?? 'job'} ${e.id ?? '?'}: failed: ${e.reason}`;
    case 'error':
      return `squash worker: ${e.message}`;
  }
}

/**
 * `squash worker`: runs jobs of the queue in sandboxed processes until stopped. SIGINT or SIGTERM
 * lets the jobs in progress finish (their results go back to the queue) and exits 0; a second
 * signal stops at once (the jobs return to the queue when their locks expire).
 */
export async function worker(opts: WorkerCommandOptions, io: IO): Promise<number> {
  const target = parseQueueTarget(opts.queue, opts.queueName);
  const backend = backendPreference(opts.backend);
  const cacheDir = resolve(opts.cacheDir ?? defaultPaths().cacheDir);
  const print = opts.json
    ? (e: WorkerEvent) => io.out(`${JSON.stringify(e)}\n`)
    : (e: WorkerEvent) => io.err(`${line(e)}\n`);
  const running = await startWorker({ target, concurrency: opts.concurrency, cacheDir, backend, onEvent: print });
  const signal = await new Promise<NodeJS.Signals>((done) => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, () => done(s));
  });
  io.err(`squash worker: ${signal}: finishing the jobs in progress (again to stop now)\n`);
  const now = new Promise<void>((done) => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, () => done());
  });
  await Promise.race([running.close(), now.then(() => running.close(true))]);
  return 0;
}
