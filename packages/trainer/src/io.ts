import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, renameSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Saves in the standard tfjs layers format (`model.json` + `weights.bin`), loadable by
 * `tf.loadLayersModel` anywhere. Written to a temp dir and renamed so a crash never leaves a
 * half-written model where a cache lookup would find it.
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const manifest = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: `squash (TensorFlow.js ${tf.version.tfjs})`,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(tmp, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
      writeFileSync(join(tmp, 'model.json'), JSON.stringify(manifest));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

export function modelExists(dir: string): boolean {
  return existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'weights.bin'));
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const bin = readFileSync(join(dir, 'weights.bin'));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: manifest.modelTopology,
      weightSpecs: manifest.weightsManifest[0].weights,
      weightData,
    }),
  );
}
