import { join } from 'node:path';
import { isEnvironmentError } from '@squash/core';
import { batchAugmenter } from '@squash/datasets';
import type { RunArtifact, RunBatch } from '@squash/store';
import { getWeights, modelRegistry, resolveModelSpec } from '@squash/trainer';
import type { Baseline } from '../baseline.js';
import { writeTrialArtifact } from '../pipeline/artifact.js';
import { runPipeline } from '../pipeline/run.js';
import type { PipelineContext } from '../pipeline/state.js';
import { trialLabel } from '../plan.js';
import type { Experiment, Trial } from '../spec/types.js';
import { trialMetrics } from '../trial_metrics.js';
import { CALIBRATION_SAMPLES, head, trialParams, withTrainingPath, type ProcessEnv } from './context.js';
import { InterruptedError } from './stop.js';

export interface WorkEnv extends ProcessEnv {
  exp: Experiment;
  baselines: Map<string, Baseline>;
  artifactDir: string;
  /** Where pipeline states after training stages are cached (shared by trials and experiments). */
  stateCacheDir?: string;
  force: boolean;
  /** Stop claiming new trials once one has failed. */
  failFast?: boolean;
}

/**
 * Claims and runs trials in plan order until none is left for this process. Every process of an
 * invocation (and any other invocation on the same database) runs this same loop; the claim
 * makes each trial run once. A stop request ends it with InterruptedError, the trial in progress
 * marked KILLED with the reason.
 */
export async function workLoop(trials: Trial[], env: WorkEnv): Promise<void> {
  const calibration = head(env.data.train, CALIBRATION_SAMPLES);
  for (const [i, trial] of trials.entries()) {
    await env.stop.poll();
    // With --fail-fast a failure in any process of this invocation stops everyone's claiming.
    if (env.failFast && env.store.invocationFailed(env.identity.invocation)) return;
    const label = trialLabel(trial.stages, trial.trainAxes);
    const claim = env.store.claimRun(
      {
        experimentId: env.experimentId,
        trialId: trial.id,
        sweep: trial.sweep,
        label,
        isBaseline: false,
        seed: trial.baseline.seed,
        config: { baseline: trial.baseline, stages: trial.stages },
        sweepId: env.sweepId,
        force: env.force,
      },
      env.identity,
    );
    if (!claim.claimed) continue;
    if (env.exp.tags && Object.keys(env.exp.tags).length) env.store.setTags(claim.runId, env.exp.tags);
    env.heartbeat.add(claim.runId);
    env.emit({
      type: 'running',
      runId: claim.runId,
      trialId: trial.id,
      label,
      index: i + 1,
      total: trials.length,
      attempt: claim.attempt,
    });
    const t0 = performance.now();
    try {
      const { accuracy, record } = await computeTrial(trial, label, calibration, env);
      env.store.finishRun(claim.runId, record);
      env.emit({
        type: 'trial',
        trialId: trial.id,
        sweep: trial.sweep,
        label,
        status: 'FINISHED',
        accuracy,
        index: i + 1,
        total: trials.length,
        seconds: (performance.now() - t0) / 1000,
      });
    } catch (e) {
      const stopped = e instanceof InterruptedError;
      const status = stopped ? 'KILLED' : 'FAILED';
      // A full disk or an unusable database fails every later trial too: the sweep stops with it
      // (a row that cannot be written now stays RUNNING; the next run marks it KILLED and redoes it).
      const fatal = !stopped && isEnvironmentError(e);
      try {
        env.store.setStatus(claim.runId, status, stopped ? e.stop.reason : ((e as Error).stack ?? String(e)));
      } catch (recording) {
        if (!fatal) throw recording;
      }
      if (fatal) throw e;
      env.emit({
        type: 'trial',
        trialId: trial.id,
        sweep: trial.sweep,
        label,
        status,
        error: stopped ? e.stop.reason : (e as Error).message,
        index: i + 1,
        total: trials.length,
      });
      if (stopped) throw e;
    } finally {
      env.heartbeat.remove(claim.runId);
    }
  }
}

/** What computing a trial needs: no store, so a queue worker runs the same code as `workLoop`. */
export type TrialEnv = Pick<WorkEnv, 'exp' | 'baselines' | 'data' | 'artifactDir' | 'stateCacheDir' | 'emit' | 'stop'>;

/** What a finished trial records on its run (`finishRun`). */
export type TrialRecord = RunBatch & { artifacts: RunArtifact[] };

/**
 * One trial: the pipeline on a copy of its baseline, the artifact and the metrics, returned for
 * the caller to record all-or-nothing.
 */
export async function computeTrial(
  trial: Trial,
  label: string,
  calibration: PipelineContext['calibration'],
  env: TrialEnv,
): Promise<{ accuracy: number; record: TrialRecord }> {
  const baseline = env.baselines.get(trial.baselineId)!;
  const t0 = performance.now();
  const ctx: PipelineContext = {
    data: env.data,
    calibration,
    teacher: baseline.model,
    train: trial.baseline.train,
    seed: trial.baseline.seed,
    augment: batchAugmenter(trial.baseline.dataset.augment, env.data.inputShape, env.data.normalization),
    baselineId: trial.baselineId,
    models: env.exp.models,
    stateCacheDir: env.stateCacheDir,
    resolveModel: (name) => (env.exp.models[name] ? { ...env.exp.models[name]!, name } : modelRegistry.get(name)),
    onEpoch: (log, place) =>
      env.emit({ type: 'epoch', seed: trial.baseline.seed, log, label, trialId: trial.id, ...place }),
    onStage: (stage, stageIndex, stages) =>
      env.emit({ type: 'stage', trialId: trial.id, label, stage, stageIndex, stages }),
    checkStop: env.stop.checkpoint,
  };
  const baselineSpec = resolveModelSpec(trial.baseline.model);
  const { state, evaluation, validation, cachedStages } = await runPipeline(
    baseline.model,
    baselineSpec,
    trial.stages,
    ctx,
  );
  try {
    const artifact = await writeTrialArtifact(state, ctx, join(env.artifactDir, `${trial.id}.sqz`));
    const metrics = trialMetrics({
      evaluation,
      validation,
      baselineAccuracy: baseline.accuracy,
      baselineWeights: getWeights(baseline.model),
      baselineSpec,
      inputShape: env.data.inputShape,
      state,
      artifact,
      seconds: (performance.now() - t0) / 1000,
    });
    const record: TrialRecord = {
      params: {
        ...trialParams(trial, env.data),
        baseline_run: baseline.id,
        cache_hit: cachedStages > 0,
        ...withTrainingPath(state.history),
      },
      metrics: [...metrics, { key: 'cached_stages', value: cachedStages }],
      artifacts: [{ kind: 'model', path: artifact.path, bytes: artifact.bytes, sha256: artifact.sha256 }],
    };
    return { accuracy: evaluation.accuracy, record };
  } finally {
    state.model.dispose();
  }
}
