import { join } from 'node:path';
import { Metric, type MetricInput } from '@squash/contract';
import { obtainBaseline, type Baseline } from '../baseline.js';
import type { Dataset } from '@squash/datasets';
import { evaluate, splitValidation } from '@squash/trainer';
import type { Trial } from '../spec/types.js';
import { trialParams, withTrainingPath, type ProcessEnv } from './context.js';
import { InterruptedError } from './stop.js';
import { baselineLabel } from '../plan.js';
import { epochsSpanned, trainingSamples } from '../train_settings.js';

export interface BaselineEnv extends ProcessEnv {
  cacheDir: string;
}

/**
 * The trained baseline of every trial's config, each trained once: a baseline is claimed like a
 * trial, so of two processes of one experiment one records it while the other waits; across
 * experiments (other names, other claims) the cache entry's lock makes the second wait for the
 * first's model (`obtainBaseline`). Already-trained baselines come from the cache without training.
 */
export async function ensureBaselines(trials: Trial[], env: BaselineEnv): Promise<Map<string, Baseline>> {
  const out = new Map<string, Baseline>();
  for (const trial of trials) {
    if (out.has(trial.baselineId)) continue;
    out.set(trial.baselineId, await ensureBaseline(trial, env));
  }
  return out;
}

async function ensureBaseline(trial: Trial, env: BaselineEnv): Promise<Baseline> {
  const { store, emit } = env;
  const seed = trial.baseline.seed;
  let waiting = false;
  for (;;) {
    await env.stop.poll();
    const claim = store.claimRun(
      {
        experimentId: env.experimentId,
        trialId: trial.baselineId,
        sweep: 'baseline',
        label: baselineLabel(trial.trainAxes),
        isBaseline: true,
        seed,
        config: { baseline: trial.baseline },
        sweepId: env.sweepId,
      },
      env.identity,
    );
    if (!claim.claimed && claim.reason === 'running') {
      // Another process of this experiment is training it; its model lands in the cache.
      if (!waiting) emit({ type: 'baseline-wait', seed, baselineId: trial.baselineId });
      waiting = true;
      await env.stop.sleep(2000);
      continue;
    }
    if (claim.claimed) env.heartbeat.add(claim.runId);
    const baselineId = trial.baselineId;
    const { train } = trial.baseline;
    const epochs = epochsSpanned(train, trainingSamples(env.data.train.count, train.validationSplit));
    const model = trial.baseline.model;
    const file = typeof model === 'object' ? model.source?.path : undefined;
    try {
      const b = await obtainBaseline(baselineId, trial.baseline, env.data, {
        cacheDir: env.cacheDir,
        backend: env.identity.backend,
        onTrainStart: () => emit({ type: 'baseline-start', seed, baselineId, epochs, file }),
        onEpoch: (log) => emit({ type: 'epoch', seed, log, epochs }),
        checkStop: env.stop.checkpoint,
        onWait: (h) => emit({ type: 'baseline-wait', seed, baselineId, holder: h && `${h.host}:${h.pid}` }),
        onDamaged: (problem) =>
          emit({
            type: 'warning',
            message: `cached baseline ${join(env.cacheDir, 'baselines', baselineId)} is damaged (${problem}); retraining it`,
          }),
      });
      emit({ type: 'baseline', seed, cacheHit: b.cacheHit, accuracy: b.accuracy, seconds: b.trainSeconds, file });
      if (claim.claimed) store.finishRun(claim.runId, baselineRecord(trial, b, env.data));
      return b;
    } catch (e) {
      if (claim.claimed && e instanceof InterruptedError) store.setStatus(claim.runId, 'KILLED', e.stop.reason);
      else if (claim.claimed) store.setStatus(claim.runId, 'FAILED', (e as Error).stack ?? String(e));
      throw e;
    } finally {
      if (claim.claimed) env.heartbeat.remove(claim.runId);
    }
  }
}

/** What a baseline's run records: its accuracy, sizes and training curves. */
export function baselineRecord(trial: Trial, b: Baseline, data: Dataset) {
  const curves: MetricInput[] = b.history.flatMap((h) => [
    { key: Metric.trainLoss, value: h.loss, step: h.epoch },
    { key: Metric.trainAccuracy, value: h.accuracy, step: h.epoch },
    ...(h.valAccuracy !== undefined
      ? [
          { key: Metric.valAccuracy, value: h.valAccuracy, step: h.epoch },
          { key: Metric.valLoss, value: h.valLoss!, step: h.epoch },
        ]
      : []),
  ]);
  const last = b.history.at(-1);
  // A baseline not trained here (a model file) has no training-time validation: measured now, as a search needs it.
  const held = splitValidation(data.train, trial.baseline.train.validationSplit).validation;
  const val = last?.valAccuracy === undefined && held ? evaluate(b.model, held) : undefined;
  return {
    params: {
      ...trialParams({ ...trial, stages: [] }, data),
      cache_hit: b.cacheHit,
      trained_on: b.trainedOn,
      ...withTrainingPath(b.history),
    },
    metrics: [
      { key: Metric.accuracy, value: b.accuracy },
      { key: Metric.loss, value: b.loss },
      { key: Metric.accuracyDelta, value: 0 },
      { key: Metric.weightsChangedFraction, value: 0 },
      { key: Metric.weightsKeptFraction, value: 1 },
      { key: Metric.trainSeconds, value: b.trainSeconds },
      ...(last?.valAccuracy !== undefined ? [{ key: Metric.valAccuracy, value: last.valAccuracy }] : []),
      ...(last?.valLoss !== undefined ? [{ key: Metric.valLoss, value: last.valLoss }] : []),
      ...(val
        ? [
            { key: Metric.valAccuracy, value: val.accuracy },
            { key: Metric.valLoss, value: val.loss },
          ]
        : []),
      { key: Metric.sizeFloat32Bytes, value: b.weightBytes },
      { key: Metric.artifactBytes, value: b.weightBytes },
      { key: Metric.compressionRatio, value: 1 },
      ...curves,
    ],
    artifacts: [{ kind: 'model', path: b.dir, bytes: b.weightBytes }],
  };
}
