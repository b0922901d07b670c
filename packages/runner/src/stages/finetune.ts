import type { TrainingParams } from '../pipeline/finetune.js';
import { batchSize, epochs, iterations, learningRate } from './params.js';
import { defineTrainingStage, seedOffset } from './stage.js';

export const finetuneConfig = defineTrainingStage({
  name: 'finetune',
  description:
    'Retrains the compressed model with its constraints held: pruning masks, quantization (straight-through for uniform schemes, centroid training for k-means), activation quantization.',
  params: {
    epochs,
    iterations,
    learningRate,
    batchSize,
  },
  replacesModel: false,
  transformsWeights: true,
  async apply(state, ctx, stage, index) {
    const { runFinetune } = await import('../pipeline/finetune.js');
    await runFinetune(state, ctx, stage.params as unknown as TrainingParams, seedOffset(index));
  },
});
