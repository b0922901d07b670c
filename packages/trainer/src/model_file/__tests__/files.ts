import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'squash-model-file-'));

/** What stock tfjs `model.save()` hands a save handler: topology, weight specs, weight bytes. */
export interface Saved {
  modelTopology: unknown;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: Uint8Array;
}

/** Saves with stock tfjs' own `model.save()` (no Squash code), returning what it wrote. */
export async function saveStock(model: tf.LayersModel): Promise<Saved> {
  let saved: Saved | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = {
        modelTopology: a.modelTopology,
        weightSpecs: a.weightSpecs!,
        weightData: new Uint8Array(a.weightData as ArrayBuffer),
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

/** Writes model.json (an object, or text as is) and shards into `dir`; returns model.json's path. */
export function writeModel(dir: string, modelJson: unknown, shards: Record<string, Uint8Array> = {}): string {
  for (const [name, bytes] of Object.entries(shards)) writeFileSync(join(dir, name), bytes);
  const path = join(dir, 'model.json');
  writeFileSync(path, typeof modelJson === 'string' ? modelJson : JSON.stringify(modelJson));
  return path;
}

/** The one-shard layout `model.save()` to files uses (`tf.io.browserFiles`/`file://` write the same). */
export function oneShard(saved: Saved): { json: Record<string, unknown>; shards: Record<string, Uint8Array> } {
  return {
    json: {
      modelTopology: saved.modelTopology,
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }],
    },
    shards: { 'weights.bin': saved.weightData },
  };
}

/** Little-endian float32 bytes. */
export const f32 = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);

/** Random values for every weight, so batch-norm statistics are not the identity (variances positive). */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const values = model.weights.map((w, i) =>
    w.originalName.endsWith('moving_variance')
      ? tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', seed + i)
      : tf.randomUniform(w.shape as number[], -0.6, 0.6, 'float32', seed + i),
  );
  model.setWeights(values);
  tf.dispose(values);
}
