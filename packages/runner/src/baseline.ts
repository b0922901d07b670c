import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '@squash/datasets';
import {
  buildModel,
  evaluate,
  loadModel,
  modelExists,
  resolveModelSpec,
  saveModel,
  train,
  type EpochLog,
  type TrainOptions,
} from '@squash/trainer';
import type { BaselineConfig } from './spec/types.js';

export interface Baseline {
  id: string;
  model: tf.LayersModel;
  accuracy: number;
  loss: number;
  history: EpochLog[];
  trainSeconds: number;
  /** True when the trained model came from the cache instead of being trained now. */
  cacheHit: boolean;
  /** Backend the model was trained on (may differ from the current one on a cache hit). */
  trainedOn: string;
  /** The cached tfjs model directory (`model.json` + `weights.bin`). */
  dir: string;
  /** Bytes of `weights.bin`: the float32 model as tfjs stores it. */
  weightBytes: number;
}

/**
 * The trained baseline for a config: from `<cacheDir>/baselines/<id>/` when present, else trained
 * and saved there. Content-addressed by the config hash, so every experiment that trains the same
 * model on the same data with the same settings and seed shares one.
 */
export async function obtainBaseline(
  id: string,
  config: BaselineConfig,
  data: Dataset,
  cacheDir: string,
  backend: string,
  hooks: Pick<TrainOptions, 'onEpoch' | 'checkStop'> = {},
): Promise<Baseline> {
  const dir = join(cacheDir, 'baselines', id);
  const infoFile = join(dir, 'baseline.json');
  if (modelExists(dir) && existsSync(infoFile)) {
    const info = JSON.parse(readFileSync(infoFile, 'utf8')) as {
      history: EpochLog[];
      trainSeconds: number;
      backend: string;
    };
    const model = await loadModel(dir);
    const ev = evaluate(model, data.test);
    return {
      id,
      model,
      accuracy: ev.accuracy,
      loss: ev.loss,
      history: info.history,
      trainSeconds: info.trainSeconds,
      cacheHit: true,
      trainedOn: info.backend,
      dir,
      weightBytes: statSync(join(dir, 'weights.bin')).size,
    };
  }
  const model = buildModel(resolveModelSpec(config.model), data.inputShape, config.seed);
  const t0 = performance.now();
  const history = await train(model, data.train, { ...config.train, seed: config.seed, ...hooks });
  const trainSeconds = (performance.now() - t0) / 1000;
  await saveModel(model, dir);
  // Written after the model, so a crash in between leaves no info file and the next run retrains.
  writeFileSync(infoFile, JSON.stringify({ config, history, trainSeconds, backend }, null, 2));
  const ev = evaluate(model, data.test);
  return {
    id,
    model,
    accuracy: ev.accuracy,
    loss: ev.loss,
    history,
    trainSeconds,
    cacheHit: false,
    trainedOn: backend,
    dir,
    weightBytes: statSync(join(dir, 'weights.bin')).size,
  };
}
