import type * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import type { SqzModelInfo } from '@squash/sqz';
import { fakeQuantizeInPlace, readArtifact } from '@squash/compressors';
import { valuesHook, type ActivationHook } from './forward.js';
import { buildModel, resolveModelSpec, type ModelSpec } from './models.js';
import { setWeights } from './weights.js';

/**
 * What the artifact's header carries besides the weights, enough to rebuild and run the model: the
 * header @squash/sqz decodes, with the trainer's spec type.
 */
export interface ArtifactModelInfo extends SqzModelInfo {
  spec: ModelSpec;
}

/** The hook that applies the recorded activation quantization, if any. */
export function activationHookFor(info: Pick<ArtifactModelInfo, 'activations'>): ActivationHook | undefined {
  const acts = info.activations;
  if (!acts) return undefined;
  return valuesHook((layer, values) => {
    const a = acts[layer];
    if (a) fakeQuantizeInPlace(values, { min: a.min, max: a.max }, a.bits);
  });
}

/**
 * Rebuilds a tfjs model from a Squash artifact (the `.sqz` file a trial writes): the spec from
 * the header, every weight decoded from its compressed section. Evaluating it with the returned
 * hook reproduces the trial's recorded accuracy exactly.
 */
export function modelFromArtifact(bytes: Uint8Array): {
  model: tf.LayersModel;
  info: ArtifactModelInfo;
  activationHook?: ActivationHook;
} {
  const { model: header, tensors } = readArtifact(bytes);
  const info = header as ArtifactModelInfo;
  if (info?.format !== 'squash-model')
    throw new Error('artifact header does not describe a Squash model (format ≠ squash-model)');
  const model = buildModel(resolveModelSpec(info.spec), info.inputShape, 0);
  setWeights(model, tensors);
  return { model, info, activationHook: activationHookFor(info) };
}

export function loadArtifactModel(path: string): ReturnType<typeof modelFromArtifact> {
  return modelFromArtifact(new Uint8Array(readFileSync(path)));
}
