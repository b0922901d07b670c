import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@squash/backend';
import { readArtifact } from '@squash/compressors';
import { sha256Hex } from '@squash/core';
import { loadDataset, type Dataset } from '@squash/datasets';
import {
  buildModel,
  getWeights,
  loadTfjsFiles,
  modelFromArtifact,
  predictAccuracy,
  tfjsModelFiles,
  train,
  type ModelSpec,
} from '@squash/trainer';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../__tests__/fixtures.js';
import type { Stage } from '../spec/types.js';
import { writeTrialArtifact } from './artifact.js';
import { runPipeline } from './run.js';
import type { PipelineContext } from './state.js';

const SPEC: ModelSpec = {
  name: 'conv-bn',
  layers: [
    { type: 'conv2d', name: 'conv', filters: 8, kernelSize: 3, strides: 2 },
    { type: 'batchNorm', name: 'bn', momentum: 0.9 },
    { type: 'activation', name: 'relu', activation: 'relu' },
    { type: 'flatten' },
    { type: 'dense', name: 'hidden', units: 16, activation: 'relu' },
    { type: 'dense', name: 'out', units: 10, activation: 'softmax' },
  ],
};

let data: Dataset;
let baseline: tf.LayersModel;

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  data = await loadDataset({ name: 'synthetic', samples: { train: 400, test: 200 } });
  baseline = buildModel(SPEC, data.inputShape, 1);
  await train(baseline, data.train, { epochs: 2, batchSize: 32, learningRate: 0.003, seed: 1 });
});

const context = (): PipelineContext => ({
  data,
  calibration: { x: data.train.x.subarray(0, 100 * 784), y: data.train.y.subarray(0, 100), count: 100 },
  teacher: baseline,
  train: { epochs: 1, batchSize: 32, learningRate: 0.01, validationSplit: 0 },
  seed: 1,
  resolveModel: () => SPEC,
  baselineId: 'downloads-test',
  models: {},
});

const stage = (compressor: string, params: Stage['params'], layers?: Stage['layers']): Stage => ({
  compressor,
  params,
  ...(layers ? { layers } : {}),
});

describe('a trial artifact with its checksum and download sizes', () => {
  it('records the sha256 of the file and the tfjs sizes of the model rebuilt from it, structure changes included', async () => {
    const ctx = context();
    const { state } = await runPipeline(
      baseline,
      SPEC,
      [
        stage('prune-units', { retention: 0.5 }, [{ match: 'hidden' }, { match: '*', skip: true }]),
        stage('quantize-weights', { bits: 8 }),
      ],
      ctx,
    );
    const path = join(tempDir(), 'trial.sqz');
    const artifact = await writeTrialArtifact(state, ctx, path);
    const bytes = new Uint8Array(readFileSync(path));
    expect(artifact.sha256).toBe(sha256Hex(bytes));
    expect(artifact.sha256).toMatch(/^[0-9a-f]{64}$/);

    // The header's spec is the deployed one: batch norm folded into the conv, half the hidden units gone.
    const { tensors } = readArtifact(bytes);
    const rebuilt = modelFromArtifact(bytes).model;
    const exported = await tfjsModelFiles(rebuilt, 'tfjs');
    const loaded = await loadTfjsFiles(exported.files);
    expect(loaded.layers.map((l) => l.getClassName())).not.toContain('BatchNormalization');
    expect(getWeights(loaded).map((w) => [w.name, w.shape])).toEqual(tensors.map((t) => [t.name, t.shape]));
    expect(tensors.find((t) => t.name === 'hidden/kernel')!.shape).toEqual([13 * 13 * 8, 8]);
    // Stock tfjs predicts what the runner evaluated (no activation quantization in this trial).
    expect(predictAccuracy(loaded, data.test)).toBe(artifact.reloaded.accuracy);

    // The recorded sizes are of exactly these files: float32 and uint8, plain and gzipped file by file.
    const uint8 = await tfjsModelFiles(rebuilt, 'tfjs-uint8');
    const size = (files: typeof exported.files) => files.reduce((n, f) => n + f.bytes.length, 0);
    const gzip = (files: typeof exported.files) =>
      files.reduce((n, f) => n + gzipSync(f.bytes, { level: 9 }).length, 0);
    expect(artifact.downloads).toEqual({
      tfjs: size(exported.files),
      tfjsUint8: size(uint8.files),
      tfjsGzip: gzip(exported.files),
      tfjsUint8Gzip: gzip(uint8.files),
    });
    // uint8 is about a quarter of float32 (model.json aside); gzip shrinks the quantized shard further.
    expect(artifact.downloads.tfjsUint8).toBeLessThan(artifact.downloads.tfjs / 3);
    expect(artifact.downloads.tfjsUint8Gzip).toBeLessThan(artifact.downloads.tfjsUint8);
    // Every 8-bit kernel lies on its grid: exact in uint8.
    expect(uint8.tensors.filter((t) => t.name.endsWith('/kernel')).every((t) => t.exact)).toBe(true);
    rebuilt.dispose();
    loaded.dispose();
  });
});
