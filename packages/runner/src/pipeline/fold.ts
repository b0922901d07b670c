import type * as tf from '@tensorflow/tfjs';
import type { WeightTensor } from '@squash/core';
import { buildModel, foldBatchNorm, setWeights, type ModelSpec } from '@squash/trainer';

/**
 * A model with its batch norms folded into the layers before them (`foldBatchNorm`), as a deployed
 * model has them: what the pipeline compresses, measures and writes.
 */
export function foldedModel(
  spec: ModelSpec,
  weights: WeightTensor[],
  inputShape: number[],
  seed: number,
): { spec: ModelSpec; model: tf.LayersModel; folded: string[] } {
  const folded = foldBatchNorm(spec, weights, inputShape);
  const model = buildModel(folded.spec, inputShape, seed);
  setWeights(model, folded.weights);
  return { spec: folded.spec, model, folded: folded.folded };
}
