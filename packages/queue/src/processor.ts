/**
 * The sandboxed processor: BullMQ forks this file into child processes of `squash worker`, so
 * training here never blocks the worker's event loop, which keeps renewing the job's lock (a
 * blocked loop is BullMQ's known cause of stalled, doubly-processed jobs). A child runs many jobs:
 * data, parsed experiments and baselines are kept in memory between them.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type BackendChoice as Backend, type BackendPreference, selectBackend } from '@squash/backend';
import { SquashError, sha256Hex } from '@squash/core';
import {
  type Baseline,
  type Experiment,
  experimentData,
  experimentFromText,
  findUnit,
  queuedBaseline,
  runBaselineUnit,
  runTrialUnit,
  trialStateKeys,
  type UnitContext,
  workerIdentity,
} from '@squash/runner';
import { DelayedError, type SandboxedJob, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { fetchBaseline, fetchStates, publishBaseline, publishStates } from './blobs.js';
import { keys } from './keys.js';
import { type JobPayload, type JobResult, PAYLOAD_FORMAT, payloadProblem } from './payload.js';
import { connect, parseQueueTarget } from './target.js';
import { WORKER_ENV } from './worker_env.js';

// Orphaned by a killed worker: the job returns to the queue when its lock expires; this child must not run on.
process.on('disconnect', () => process.exit(1));

/** How long a trial waits before looking again for its baseline (trained by another job). */
const BASELINE_POLL_MS = 1000;

let redis: Promise<Redis> | undefined;
let backend: Promise<Backend> | undefined;
const experiments = new Map<string, Experiment>();
const baselines = new Map<string, Baseline>();

const env = (name: keyof typeof WORKER_ENV) => process.env[WORKER_ENV[name]] ?? '';

function context(b: Backend): UnitContext {
  const cacheDir = env('cacheDir');
  return { cacheDir, artifactDir: join(cacheDir, 'artifacts'), backend: b.name };
}

function experimentOf(p: JobPayload): Experiment {
  const key = `${p.file}\0${p.text}`;
  let exp = experiments.get(key);
  if (!exp) {
    try {
      exp = experimentFromText(p.text, p.file);
    } catch (e) {
      throw new UnrecoverableError(`the experiment does not parse here: ${(e as Error).message}`);
    }
    experiments.set(key, exp);
  }
  return exp;
}

export default async function processJob(job: SandboxedJob<JobPayload, JobResult>, token?: string): Promise<JobResult> {
  const problem = payloadProblem(job.data);
  if (problem) throw new UnrecoverableError(`refused: ${problem}`);
  const p = job.data;
  const exp = experimentOf(p);
  const unit = findUnit(exp, p.kind, p.id);
  if (!unit)
    throw new UnrecoverableError(
      `refused: experiment ${p.experiment} plans no ${p.kind} ${p.id} on this machine (its data files or model files differ from the recorder's)`,
    );
  redis ??= connect(parseQueueTarget(env('url'), env('queue')));
  backend ??= selectBackend({ prefer: (env('backend') || undefined) as BackendPreference });
  const [r, b] = await Promise.all([redis, backend]);
  const ctx = context(b);
  const worker = workerIdentity(b.name, env('invocation'));
  const data = await experimentData(exp);
  const { trial } = unit;
  if (unit.kind === 'baseline') {
    try {
      const { baseline, result } = await runBaselineUnit(trial, data, ctx);
      baselines.set(trial.baselineId, baseline);
      await publishBaseline(r, trial.baselineId, baseline.dir);
      return { format: PAYLOAD_FORMAT, kind: p.kind, id: p.id, result, worker };
    } catch (e) {
      // Its trials stop waiting for it and fail with the reason.
      const reason = e instanceof SquashError ? e.describe() : ((e as Error).stack ?? String(e));
      await r.set(keys.baselineFailed(job.queueName, trial.baselineId), reason, 'EX', 7 * 24 * 3600);
      throw e;
    }
  }
  let baseline = baselines.get(trial.baselineId);
  if (!baseline) {
    const failed = await r.get(keys.baselineFailed(job.queueName, trial.baselineId));
    if (failed) {
      const error = `its baseline ${trial.baselineId} failed: ${failed}`;
      return {
        format: PAYLOAD_FORMAT,
        kind: p.kind,
        id: p.id,
        result: { status: 'FAILED', error, message: error },
        worker,
      };
    }
    if (!(await fetchBaseline(r, trial.baselineId, ctx.cacheDir))) {
      // Not trained yet: back to the queue for a while, this slot free for other work.
      await job.moveToDelayed(Date.now() + BASELINE_POLL_MS, token);
      throw new DelayedError();
    }
    baseline = await queuedBaseline(trial, data, ctx);
    baselines.set(trial.baselineId, baseline);
  }
  const statesDir = join(ctx.cacheDir, 'states');
  const stateKeys = trialStateKeys(exp, trial);
  await fetchStates(r, statesDir, stateKeys);
  const result = await runTrialUnit(exp, trial, data, baseline, ctx);
  await publishStates(r, statesDir, stateKeys);
  const out: JobResult = { format: PAYLOAD_FORMAT, kind: p.kind, id: p.id, result, worker };
  if (result.status === 'FINISHED') {
    const path = result.record.artifacts[0]!.path;
    const bytes = readFileSync(path);
    out.sqz = { base64: bytes.toString('base64'), sha256: sha256Hex(bytes) };
    rmSync(path, { force: true });
  }
  return out;
}
