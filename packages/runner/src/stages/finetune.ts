import type { TrainingParams } from '../pipeline/finetune.js';
import { batchSize, epochs, learningRate } from './params.js';
import { defineStage, seedOffset } from './stage.js';

export const finetuneConfig = defineStage({
  name: 'finetune',
  description:
    'Retrains the compressed model with its constraints held: pruning masks, quantization (straight-through for uniform schemes, centroid training for k-means), activation quantization.',
  params: {
    epochs: { ...epochs, required: true },
    learningRate,
    batchSize,
  },
  trains: true,
  replacesModel: false,
  transformsWeights: true,
  async apply(state, ctx, stage, index) {
    const { runFinetune } = await import('../pipeline/finetune.js');
    await runFinetune(state, ctx, stage.params as unknown as TrainingParams, seedOffset(index));
  },
});
