import { join } from 'node:path';
import { FileError, SQUASH_VERSION, sha256Hex, writeFileAtomic } from '@squash/core';
import {
  type Experiment,
  planTrials,
  type QueuedUnit,
  type RecordTarget,
  type RunEvent,
  type RunSummary,
  recordUnit,
  type StopRequest,
  type Trial,
  trialLabel,
  type UnitResult,
} from '@squash/runner';
import type { RunStore, WorkerIdentity } from '@squash/store';
import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { fetchBaseline, hasCachedBaseline, publishBaseline } from './blobs.js';
import { keys } from './keys.js';
import { holdRecorder, jobsLeft, readMeta, takeQueue } from './meta.js';
import { type JobPayload, type JobResult, PAYLOAD_FORMAT } from './payload.js';
import { connect, type QueueTarget } from './target.js';

/** A connection to a queue, checked: reachable, authenticated. */
export interface QueueSession {
  target: QueueTarget;
  redis: Redis;
  queue: Queue<JobPayload, JobResult>;
  close(): Promise<void>;
}

export async function openQueue(target: QueueTarget): Promise<QueueSession> {
  const redis = await connect(target);
  const queue = new Queue<JobPayload, JobResult>(target.name, { connection: target.connection });
  queue.on('error', () => {});
  return {
    target,
    redis,
    queue,
    close: async () => {
      await queue.close().catch(() => {});
      redis.disconnect();
    },
  };
}

/** The experiment a queue holds work of (`squash collect` without a file), or undefined. */
export async function queuedExperimentText(s: QueueSession): Promise<{ text: string; file: string } | undefined> {
  const meta = await readMeta(s.redis, s.target);
  return meta?.text ? { text: meta.text, file: meta.file } : undefined;
}

/** This process becomes the queue's only recorder (ConfigError, exit 2, while another is). */
export const holdRecorderOf = (s: QueueSession) => holdRecorder(s.redis, s.target);

/** Checks the queue may take this experiment (ConfigError, exit 2, otherwise) and makes it the owner. */
export const claimQueueFor = (s: QueueSession, exp: Experiment) => takeQueue(s.redis, s.queue, s.target, exp);

/** BullMQ refuses ids that read as integers: such an id (a hex hash of digits only) gets a prefix. */
export const jobIdOf = (id: string) => (/^\d+$/.test(id) ? `id-${id}` : id);

function payload(exp: Experiment, kind: JobPayload['kind'], id: string): JobPayload {
  return {
    format: PAYLOAD_FORMAT,
    squash: SQUASH_VERSION,
    kind,
    id,
    experiment: exp.name,
    text: exp.text ?? '',
    file: exp.file ?? '',
  };
}

const JOB_OPTIONS = {
  // A worker that crashed outright (not a trial's own failure, which is a result) gets one more try.
  attempts: 2,
  // Results stay in Redis until the recorder has stored them; it removes each job then.
  removeOnComplete: false,
  removeOnFail: false,
} as const;

/**
 * Enqueues the trials (and the baselines they need) with job id = trial or baseline id, so a
 * second enqueue of the same sweep, from here or another machine, adds nothing. A baseline this
 * machine has cached and recorded is published to Redis instead of trained again.
 */
export async function enqueueTrials(
  s: QueueSession,
  exp: Experiment,
  trials: Trial[],
  opts: { store: RunStore; cacheDir: string },
): Promise<{ added: number; present: number }> {
  const latest = opts.store.latestByTrial(exp.name);
  const jobs: Array<{
    name: string;
    data: JobPayload;
    opts: typeof JOB_OPTIONS & { jobId: string; priority: number };
  }> = [];
  for (const id of new Set(trials.map((t) => t.baselineId))) {
    await s.redis.del(keys.baselineFailed(s.target.name, id));
    if (latest.get(id)?.status === 'FINISHED' && hasCachedBaseline(opts.cacheDir, id)) {
      await publishBaseline(s.redis, id, join(opts.cacheDir, 'baselines', id));
      continue;
    }
    // Baselines first: their trials wait for them.
    jobs.push({
      name: 'baseline',
      data: payload(exp, 'baseline', id),
      opts: { ...JOB_OPTIONS, jobId: jobIdOf(id), priority: 1 },
    });
  }
  for (const t of trials)
    jobs.push({
      name: 'trial',
      data: payload(exp, 'trial', t.id),
      opts: { ...JOB_OPTIONS, jobId: jobIdOf(t.id), priority: 2 },
    });
  let present = 0;
  for (const j of jobs) if (await s.queue.getJob(j.opts.jobId)) present++;
  await s.queue.addBulk(jobs);
  return { added: jobs.length - present, present };
}

export interface RecordOptions {
  store: RunStore;
  experimentId: number;
  sweepId: number;
  cacheDir: string;
  artifactDir: string;
  /** Record a FINISHED result even when the trial already has a FINISHED run (`--force`). */
  force?: boolean;
  emit: (e: RunEvent) => void;
  stop: StopRequest;
  /** Trials of the plan this invocation waits for (progress counts them). */
  total: number;
  pollMs?: number;
}

/**
 * The recorder: the only process that writes the database. It stores every result the queue
 * holds, each exactly once (keyed by job id and enqueue time, in the same transaction as the run),
 * removes the job only after, and returns when the queue holds no job at all. Results finished
 * while no recorder ran wait in Redis for the next. A Redis restart is waited out.
 */
export async function recordResults(s: QueueSession, exp: Experiment, opts: RecordOptions): Promise<RunSummary> {
  const trials = planTrials(exp);
  const byTrial = new Map(trials.map((t) => [t.id, t]));
  const byBaseline = new Map<string, Trial>();
  for (const t of trials) if (!byBaseline.has(t.baselineId)) byBaseline.set(t.baselineId, t);
  const summary: RunSummary = { finished: 0, skipped: 0, failed: 0, killed: 0, elsewhere: 0 };
  const target: RecordTarget = {
    store: opts.store,
    experimentId: opts.experimentId,
    sweepId: opts.sweepId,
    ...(exp.tags && Object.keys(exp.tags).length ? { tags: exp.tags } : {}),
  };
  let done = 0;
  let redisDown = false;
  const unitOf = (p: JobPayload | undefined): QueuedUnit | undefined => {
    const trial = p?.kind === 'trial' ? byTrial.get(p.id) : p?.kind === 'baseline' ? byBaseline.get(p.id) : undefined;
    return trial && { kind: p!.kind, trial };
  };

  const record = async (job: Job<JobPayload, JobResult>, failed: boolean) => {
    const unit = unitOf(job.data);
    if (!unit) {
      opts.emit({
        type: 'warning',
        message: `job ${job.id} is not part of experiment ${exp.name}; removed unrecorded`,
      });
      await job.remove();
      return;
    }
    const { trial } = unit;
    const id = unit.kind === 'trial' ? trial.id : trial.baselineId;
    let result: UnitResult | { status: 'FAILED'; error: string };
    let worker: WorkerIdentity;
    if (failed) {
      result = { status: 'FAILED', error: job.failedReason || 'failed in the queue' };
      worker = {
        host: job.processedBy ?? 'queue',
        pid: 0,
        invocation: '',
        version: job.data.squash,
        backend: 'unknown',
      };
      if (unit.kind === 'baseline') await s.redis.set(keys.baselineFailed(s.target.name, id), result.error);
    } else {
      const r = job.returnvalue;
      result = r.result;
      worker = r.worker;
      if (r.result.status === 'FINISHED') {
        const artifact = r.result.record.artifacts[0]!;
        if (unit.kind === 'trial') artifact.path = writeSqz(r, artifact.sha256, join(opts.artifactDir, `${id}.sqz`));
        else {
          if (!(await fetchBaseline(s.redis, id, opts.cacheDir)))
            throw new FileError(`baseline ${id}'s files are not in Redis`, 'ENOBLOB');
          artifact.path = join(opts.cacheDir, 'baselines', id);
        }
      }
    }
    const before = opts.store.latestByTrial(exp.name).get(id)?.status;
    // A baseline is recorded once per experiment; a finished trial once unless forced (a rerun).
    const already = before === 'FINISHED' && (unit.kind === 'baseline' || !opts.force);
    const runId = already ? undefined : recordUnit(target, unit, result, worker, `${job.id}@${job.timestamp}`);
    await job.remove();
    if (unit.kind === 'baseline') {
      if (result.status === 'FINISHED' && 'record' in result) {
        const cacheHit = result.record.params?.cache_hit === true;
        const seconds = result.record.metrics?.find((m) => m.key === 'train_seconds')?.value ?? 0;
        opts.emit({ type: 'baseline', seed: trial.baseline.seed, cacheHit, accuracy: result.accuracy, seconds });
      } else opts.emit({ type: 'warning', message: `baseline seed ${trial.baseline.seed} failed: ${result.error}` });
      return;
    }
    if (!runId) {
      summary.skipped++;
      return;
    }
    if (result.status === 'FINISHED') summary.finished++;
    else summary.failed++;
    opts.emit({
      type: 'trial',
      trialId: id,
      sweep: trial.sweep,
      label: trialLabel(trial.stages, trial.trainAxes),
      status: result.status,
      ...(result.status === 'FINISHED' && 'accuracy' in result ? { accuracy: result.accuracy } : {}),
      ...(result.status === 'FAILED' ? { error: 'message' in result ? result.message : result.error } : {}),
      index: ++done,
      total: opts.total,
    });
  };
  for (;;) {
    opts.stop.throwIfRequested();
    let seen = 0;
    try {
      for (const [state, failed] of [
        ['completed', false],
        ['failed', true],
      ] as const) {
        const jobs = await s.queue.getJobs([state], 0, 99, true);
        seen += jobs.length;
        for (const job of jobs) await record(job, failed);
      }
      if (seen === 0 && (await jobsLeft(s.queue)) === 0) break;
      if (redisDown) opts.emit({ type: 'warning', message: `Redis at ${s.target.display} answers again` });
      redisDown = false;
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      if (!redisDown)
        opts.emit({
          type: 'warning',
          message: `Redis at ${s.target.display} is unreachable (${(e as Error).message}); waiting for it`,
        });
      redisDown = true;
    }
    if (seen === 0) await opts.stop.sleep(opts.pollMs ?? 250);
  }
  return summary;
}

const isConnectionError = (e: unknown) =>
  /ECONNREFUSED|ECONNRESET|Connection is closed|EPIPE|LOADING|ETIMEDOUT|max retries|Stream isn't writeable/i.test(
    (e as Error)?.message ?? '',
  );

/** A finished trial's `.sqz` as the worker sent it, checked against both hashes before it is written. */
function writeSqz(r: JobResult, recorded: string | undefined, path: string): string {
  if (!r.sqz) throw new FileError(`the result of trial ${r.id} carries no .sqz`, 'ENOSQZ');
  const bytes = Buffer.from(r.sqz.base64, 'base64');
  const sha = sha256Hex(bytes);
  if (sha !== r.sqz.sha256 || (recorded && sha !== recorded))
    throw new FileError(`the .sqz of trial ${r.id} does not match its sha256 (damaged in transit)`, 'ESQZHASH');
  writeFileAtomic(path, bytes, 'writing a trial artifact from the queue');
  return path;
}
