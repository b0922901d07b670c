import type * as tf from '@tensorflow/tfjs';
import { PolynomialDecay, pruneWeightsConfig } from '@squash/compressors';
import type { TrainingParams } from '../pipeline/finetune.js';
import { batchSize, epochs, iterations, learningRate, retention, scope } from './params.js';
import { defineTrainingStage, seedOffset } from './stage.js';

/**
 * Zhu & Gupta 2017 while training: at step t in {t0, t0+Δt, …, t_end} retention becomes
 * 1 − s_t with s_t = s_f + (s_i − s_f)(1 − (t − t0)/(t_end − t0))³ (the `PolynomialDecay`
 * schedule); t0 = 0 and t_end is 3/4 of the steps, so the last quarter trains with the final
 * mask. Masks hold between updates.
 */
export const pruneGradualConfig = defineTrainingStage({
  name: 'prune-gradual',
  description:
    'Zhu & Gupta 2017: retention falls from initialRetention to retention along a cubic schedule while training, pruning every `frequency` steps.',
  params: {
    retention,
    initialRetention: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      default: 1,
      description: 'retention at the first pruning step (default 1)',
    },
    epochs: {
      ...epochs,
      description:
        'training epochs (required, unless iterations is given); the schedule spans the first 3/4 of the steps, the rest recovers',
    },
    iterations: { ...iterations, description: 'training optimizer steps, instead of epochs' },
    frequency: {
      type: 'integer',
      minimum: 1,
      default: 100,
      description: 'steps between pruning updates (Δt, default 100)',
    },
    learningRate,
    batchSize,
    scope,
  },
  replacesModel: false,
  transformsWeights: true,
  // Probed as the magnitude pruning it ends with (no retraining).
  probeCompressor: pruneWeightsConfig.name,
  async apply(state, ctx, stage, index) {
    const [tfjs, { variablesByName }, { applyWeightCompressor }, { runFinetune }] = await Promise.all([
      import('@tensorflow/tfjs'),
      import('@squash/trainer'),
      import('../pipeline/compress_stages.js'),
      import('../pipeline/finetune.js'),
    ]);
    const p = stage.params as unknown as TrainingParams & {
      retention: number;
      initialRetention: number;
      frequency: number;
      scope: string;
    };
    const batch = p.batchSize ?? ctx.train.batchSize;
    const steps = p.iterations ?? p.epochs! * Math.ceil(ctx.data.train.count / batch);
    const frequency = p.frequency;
    const endStep = Math.max(frequency, Math.floor((0.75 * steps) / frequency) * frequency);
    const schedule = new PolynomialDecay({
      initialRetention: p.initialRetention,
      finalRetention: p.retention,
      beginStep: 0,
      endStep,
      frequency,
      exponent: 3,
    });
    const pruneTo = (retention: number) =>
      applyWeightCompressor(
        state,
        { ...stage, compressor: pruneWeightsConfig.name, params: { retention, scope: p.scope } },
        pruneWeightsConfig,
      );
    const first = schedule.at(0);
    if (first.active) pruneTo(first.retention);
    // The loop's own masks are fixed at its start; between updates these keep new zeros at zero.
    let maskTensors = new Map<tf.Variable, tf.Tensor>();
    const refreshMasks = () => {
      tfjs.dispose([...maskTensors.values()]);
      const vars = variablesByName(state.model);
      maskTensors = new Map(
        [...state.masks].map(([name, m]) => [
          vars.get(name)!,
          tfjs.tensor(Float32Array.from(m), vars.get(name)!.shape),
        ]),
      );
    };
    refreshMasks();
    await runFinetune(state, ctx, p, seedOffset(index), {
      afterStep: (step) => {
        const s = schedule.at(step);
        if (s.active) {
          pruneTo(s.retention);
          refreshMasks();
        }
        tfjs.tidy(() => maskTensors.forEach((m, v) => v.assign(tfjs.mul(v, m))));
      },
    });
    tfjs.dispose([...maskTensors.values()]);
  },
});
