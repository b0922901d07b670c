import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import { nativeThreadsPerWorker } from '@squash/runner';
import { checkWorkerVersion } from './meta.js';
import type { JobPayload, JobResult } from './payload.js';
import { connect, type QueueTarget } from './target.js';
import { WORKER_ENV } from './worker_env.js';

const PROCESSOR = fileURLToPath(new URL('./processor.js', import.meta.url));

/** BullMQ's defaults (30 s); tests shorten them with SQUASH_QUEUE_LOCK_MS to see a killed worker's job return sooner. */
const DEFAULT_LOCK_MS = 30_000;

export interface WorkerOptions {
  target: QueueTarget;
  /** Jobs this worker runs at once, each in its own sandboxed process. */
  concurrency: number;
  /** This machine's cache of baselines (fetched from Redis or trained here) and pipeline states. */
  cacheDir: string;
  backend?: string;
  /** How long a job's lock lasts without renewal; a killed worker's jobs return after about this long. */
  lockMs?: number;
  onEvent?: (e: WorkerEvent) => void;
}

export type WorkerEvent =
  | { type: 'ready'; queue: string; at: string; concurrency: number }
  | { type: 'active'; kind: string; id: string }
  | { type: 'completed'; kind: string; id: string; status: string; accuracy?: number }
  | { type: 'failed'; kind: string; id: string; reason: string }
  | { type: 'error'; message: string };

/**
 * `squash worker`: takes jobs from the queue until closed, each run in a sandboxed child process.
 * Connection problems and a queue of another Squash version are ConfigErrors before any job is taken.
 */
export async function startWorker(opts: WorkerOptions): Promise<{ close(force?: boolean): Promise<void> }> {
  const { target } = opts;
  const redis = await connect(target);
  try {
    await checkWorkerVersion(redis, target);
  } finally {
    redis.disconnect();
  }
  const emit = opts.onEvent ?? (() => {});
  const lockMs = opts.lockMs ?? (Number(process.env.SQUASH_QUEUE_LOCK_MS) || DEFAULT_LOCK_MS);
  const worker = new Worker<JobPayload, JobResult>(target.name, PROCESSOR, {
    connection: target.connection,
    concurrency: opts.concurrency,
    useWorkerThreads: false,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A job whose worker died is run again; twice dead (it kills its workers) it fails.
    maxStalledCount: 2,
    workerForkOptions: {
      env: {
        ...process.env,
        // Each sandboxed child trains: the cores shared out among them, as `--jobs` does.
        SQUASH_NATIVE_THREADS: nativeThreadsPerWorker(opts.concurrency),
        [WORKER_ENV.url]: target.url,
        [WORKER_ENV.queue]: target.name,
        [WORKER_ENV.cacheDir]: opts.cacheDir,
        [WORKER_ENV.backend]: opts.backend ?? '',
        [WORKER_ENV.invocation]: randomUUID(),
      },
    },
  });
  worker.on('active', (job) => emit({ type: 'active', kind: job.data.kind, id: job.data.id }));
  worker.on('completed', (job, r) =>
    emit({
      type: 'completed',
      kind: job.data.kind,
      id: job.data.id,
      status: r.result.status,
      ...(r.result.status === 'FINISHED' ? { accuracy: r.result.accuracy } : {}),
    }),
  );
  worker.on(
    'failed',
    (job, e) => job && emit({ type: 'failed', kind: job.data?.kind, id: job.data?.id, reason: e.message }),
  );
  worker.on('error', (e) => emit({ type: 'error', message: e.message }));
  await worker.waitUntilReady();
  emit({ type: 'ready', queue: target.name, at: target.display, concurrency: opts.concurrency });
  return { close: (force = false) => worker.close(force) };
}
