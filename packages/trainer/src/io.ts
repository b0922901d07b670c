import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileError } from '@squash/core';
import { join } from 'node:path';
import { loadTfjsFiles, MODEL_JSON } from './tfjs_export.js';

/**
 * Saves in the standard tfjs layers format (`model.json` + `weights.bin`), loadable by
 * `tf.loadLayersModel` anywhere. Written to a temp dir and renamed so a crash never leaves a
 * half-written model where a cache lookup would find it.
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    await saveTo(model, tmp);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    // A failed write (a full disk) leaves nothing behind; only a killed process does (`squash doctor`).
    try {
      rmSync(tmp, { recursive: true, force: true });
    } catch {} // the failure above is the one to report
    throw fileError(e, dir, 'saving the trained model');
  }
}

async function saveTo(model: tf.LayersModel, tmp: string): Promise<void> {
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
}

/** Bytes per element of the dtypes tfjs writes into `weights.bin`. */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * What is wrong with a saved model directory (`squash doctor`), or undefined when it is whole:
 * `model.json` parses with a weights manifest, and `weights.bin` has the bytes that manifest lists.
 */
export function checkSavedModel(dir: string): string | undefined {
  let manifest: {
    modelTopology?: unknown;
    weightsManifest?: Array<{ weights?: Array<{ shape: number[]; dtype: string }> }>;
  };
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  } catch (e) {
    return `model.json does not read (${(e as Error).message.split('\n')[0]})`;
  }
  const specs = manifest?.weightsManifest?.[0]?.weights;
  if (!manifest?.modelTopology || !Array.isArray(specs)) return 'model.json has no model topology or weights manifest';
  let expected = 0;
  for (const w of specs) {
    const per = DTYPE_BYTES[w?.dtype];
    if (!per || !Array.isArray(w.shape)) return `model.json lists a weight of unknown dtype '${w?.dtype}'`;
    expected += per * w.shape.reduce((a, b) => a * b, 1);
  }
  let actual: number;
  try {
    actual = statSync(join(dir, 'weights.bin')).size;
  } catch {
    return 'weights.bin is missing';
  }
  if (actual !== expected) return `weights.bin has ${actual} bytes, model.json lists ${expected}`;
  return undefined;
}

export function modelExists(dir: string): boolean {
  return existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'weights.bin'));
}

/** A saved model directory, loaded as `squash export`'s files are: the files its model.json names. */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const json = readFileSync(join(dir, MODEL_JSON));
  const manifest = JSON.parse(json.toString('utf8')) as tf.io.ModelJSON;
  const paths = (manifest.weightsManifest ?? []).flatMap((g) => g.paths);
  return loadTfjsFiles([
    { name: MODEL_JSON, bytes: json },
    ...paths.map((name) => ({ name, bytes: readFileSync(join(dir, name)) })),
  ]);
}
