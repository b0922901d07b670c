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
  // From here on the model is the pipeline's own, not the file it may have come from (the artifact
  // header holds its layers, not the user's paths).
  const folded = foldBatchNorm(spec, weights, inputShape);
  const { source: _file, ...own } = folded.spec;
  const model = buildModel(own, inputShape, seed);
  setWeights(model, folded.weights);
  return { spec: own, model, folded: folded.folded };
}
