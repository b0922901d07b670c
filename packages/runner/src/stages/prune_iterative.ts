import { IterativeRetention, pruneWeightsConfig } from '@squash/compressors';
import type { TrainingParams } from '../pipeline/finetune.js';
import { batchSize, epochs, iterations, learningRate, retention, scope } from './params.js';
import { defineTrainingStage, seedOffset } from './stage.js';

/** Han et al. 2015: prune → retrain, `rounds` times, along the geometric `IterativeRetention` schedule. */
export const pruneIterativeConfig = defineTrainingStage({
  name: 'prune-iterative',
  description:
    'Han et al. 2015: `rounds` rounds of magnitude pruning, each followed by retraining; round i keeps retention^(i/rounds).',
  params: {
    retention,
    rounds: { type: 'integer', minimum: 1, maximum: 100, required: true, description: 'prune → retrain rounds' },
    epochs: { ...epochs, description: 'retraining epochs per round (required, unless iterations is given)' },
    iterations: { ...iterations, description: 'retraining optimizer steps per round, instead of epochs' },
    learningRate,
    batchSize,
    scope,
  },
  replacesModel: false,
  transformsWeights: true,
  // Probed as the magnitude pruning it ends with (no retraining).
  probeCompressor: pruneWeightsConfig.name,
  // Per layer, the final retention: the paper's per-layer rates (Deep Compression keeps 8 % / 9 % /
  // 26 % of LeNet-300-100's layers).
  layerParams: { retention: { ...retention, required: false } },
  async apply(state, ctx, stage, index) {
    const [{ applyWeightCompressor }, { runFinetune }] = await Promise.all([
      import('../pipeline/compress_stages.js'),
      import('../pipeline/finetune.js'),
    ]);
    const p = stage.params as unknown as TrainingParams & { retention: number; rounds: number; scope: string };
    const schedule = IterativeRetention.geometric(p.retention, p.rounds);
    // Per-layer final retentions (`layers:`) follow the same geometric schedule as the stage's own.
    const perLayer = stage.layers?.map((o) =>
      typeof o.retention === 'number' ? IterativeRetention.geometric(o.retention, p.rounds) : undefined,
    );
    for (let round = 0; schedule.at(round).active; round++) {
      const layers = stage.layers?.map((o, k) => {
        const s = perLayer![k];
        return s ? { ...o, retention: s.at(round).retention } : o;
      });
      const params = { retention: schedule.at(round).retention, scope: p.scope };
      applyWeightCompressor(
        state,
        { ...stage, layers, compressor: pruneWeightsConfig.name, params },
        pruneWeightsConfig,
      );
      await runFinetune(state, ctx, p, seedOffset(index) + round + 1, { round: round + 1, rounds: p.rounds });
    }
  },
});
