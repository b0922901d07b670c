import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { selectBackend } from '@squash/backend';
import { loadDataset, type Split } from '@squash/datasets';
import { readModelFile } from '../model_file/index.js';
import { buildModel, resolveModelSpec, type ModelSpec } from '../models.js';
import { fineTune, train, type EpochLog, type FineTuneOptions } from '../train.js';
import { getWeights } from '../weights.js';
import { variablesByName } from '../forward.js';
import { sharedWeights, steActivation, steKernel } from '../ste.js';

// The compiled plan against tfjs' autograd on the same backend, seed and data: the weights after a
// few steps must agree to float tolerance, for every layer type and training stage the plan runs.
const nativeAvailable = await selectBackend({ prefer: 'native' }).then(
  () => true,
  () => false,
);
if (!nativeAvailable) console.warn('native backend unavailable: plan tests skipped');

const RESIDUAL_CNN = join(dirname(fileURLToPath(import.meta.url)), '../../../../experiments/models/residual-cnn');

const small: Record<string, ModelSpec> = {
  'conv-pool-dropout': {
    name: 'conv-pool-dropout',
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 5, activation: 'relu' },
      { type: 'maxPool2d', poolSize: 2 },
      { type: 'conv2d', filters: 6, kernelSize: 3, padding: 'same', activation: 'tanh' },
      { type: 'avgPool2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: 16, activation: 'elu' },
      { type: 'dense', units: 10, activation: 'softmax' },
    ],
  },
  'bn-depthwise-separable': {
    name: 'bn-depthwise-separable',
    layers: [
      {
        type: 'zeroPadding2d',
        pad: [
          [1, 0],
          [2, 1],
        ],
      },
      { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, useBias: false },
      { type: 'batchNorm' },
      { type: 'activation', activation: 'relu6' },
      { type: 'depthwiseConv2d', kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'sigmoid' },
      { type: 'separableConv2d', filters: 6, kernelSize: 3, activation: 'swish' },
      { type: 'globalAvgPool2d' },
      { type: 'dense', units: 10, activation: 'softmax' },
    ],
  },
  'residual-concat': {
    name: 'residual-concat',
    layers: [
      { type: 'conv2d', name: 'a', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'conv2d', name: 'b', filters: 4, kernelSize: 3, padding: 'same', activation: 'selu' },
      { type: 'add', name: 'sum', inputs: ['a', 'b'] },
      { type: 'conv2d', name: 'c', filters: 3, kernelSize: 1, activation: 'softplus', inputs: ['sum'] },
      { type: 'concatenate', name: 'cat', inputs: ['sum', 'c'] },
      { type: 'maxPool2d', poolSize: 4 },
      { type: 'flatten' },
      { type: 'dense', units: 10, activation: 'hardSigmoid' },
      { type: 'activation', activation: 'softsign' },
      { type: 'dense', units: 10, activation: 'softmax' },
    ],
  },
};

let data: Split | undefined;
async function trainData(): Promise<Split> {
  data ??= (await loadDataset({ name: 'synthetic', samples: { train: 96, test: 10 } })).train;
  return data;
}

afterEach(() => {
  delete process.env.SQUASH_TRAINING_PATH;
});

/** Trains a fresh model of `spec` on each path and returns both weight sets and epoch logs. */
async function bothPaths(
  spec: ModelSpec,
  run: (model: tf.LayersModel, data: Split) => Promise<EpochLog[]>,
): Promise<Array<{ weights: ReturnType<typeof getWeights>; logs: EpochLog[] }>> {
  const d = await trainData();
  const out = [];
  for (const path of ['plan', 'autograd']) {
    process.env.SQUASH_TRAINING_PATH = path;
    const model = buildModel(spec, [28, 28, 1], 5);
    const logs = await run(model, d);
    out.push({ weights: getWeights(model), logs });
    model.dispose();
  }
  return out;
}

function expectClose(a: ReturnType<typeof getWeights>, b: ReturnType<typeof getWeights>, tol: number) {
  expect(a.map((w) => w.name)).toEqual(b.map((w) => w.name));
  a.forEach((w, i) => {
    let max = 0;
    for (let j = 0; j < w.values.length; j++) max = Math.max(max, Math.abs(w.values[j]! - b[i]!.values[j]!));
    expect(max, w.name).toBeLessThan(tol);
  });
}

// Plain SGD: Adam's first steps are ±lr whatever the gradient's size, which would hide a wrong one.
const baseOpts = {
  epochs: 1,
  batchSize: 32,
  learningRate: 0.05,
  seed: 7,
  optimizer: { optimizer: 'sgd' as const },
};

describe.skipIf(!nativeAvailable)('the compiled plan trains as tfjs autograd does', () => {
  it.each(['article-mlp', 'lenet-300-100', 'lenet-5', ...Object.keys(small), 'residual-cnn'])(
    '%s: weights after 3 steps agree, and the plan ran',
    async (name) => {
      const spec = name === 'residual-cnn' ? readModelFile(RESIDUAL_CNN).spec : (small[name] ?? resolveModelSpec(name));
      const [plan, autograd] = await bothPaths(spec, (m, d) => train(m, d, baseOpts));
      expect(plan!.logs[0]!.path).toBe('native-plan');
      expect(autograd!.logs[0]!.path).toBe('tfjs-autograd');
      expect(plan!.logs[0]!.loss).toBeCloseTo(autograd!.logs[0]!.loss, 4);
      expectClose(plan!.weights, autograd!.weights, 2e-4);
    },
  );

  it('the weights moved (a test that both paths did nothing would pass the comparison)', async () => {
    const spec = resolveModelSpec('article-mlp');
    const d = await trainData();
    const model = buildModel(spec, [28, 28, 1], 5);
    const before = getWeights(model);
    await train(model, d, baseOpts);
    const after = getWeights(model);
    expect(Math.abs(after[0]!.values[0]! - before[0]!.values[0]!)).toBeGreaterThan(1e-4);
  });

  it('SGD with momentum, clipping, label smoothing and a cosine schedule', async () => {
    const [plan, autograd] = await bothPaths(resolveModelSpec('lenet-300-100'), (m, d) =>
      train(m, d, {
        ...baseOpts,
        learningRate: 0.05,
        optimizer: { optimizer: 'sgd', momentum: 0.9, gradClipNorm: 0.5, labelSmoothing: 0.1, schedule: 'cosine' },
      }),
    );
    expectClose(plan!.weights, autograd!.weights, 2e-4);
  });

  it('fine-tuning: masks, straight-through quantized kernels, shared weights, activation fake quantization, distillation', async () => {
    const spec = small['conv-pool-dropout']!;
    const d = await trainData();
    const teacher = buildModel(spec, [28, 28, 1], 9);
    const centroids: Record<string, Float32Array> = {};
    const [plan, autograd] = await bothPaths(spec, async (model, data) => {
      const byName = variablesByName(model);
      const kernel1 = byName.get('conv_1/kernel')!;
      const mask = Uint8Array.from({ length: kernel1.size }, (_, i) => (i % 3 ? 1 : 0));
      // dense_1: 4 centroids per tensor, index by magnitude rank; centroid 0 frozen at 0.
      const dense = byName.get('dense_1/kernel')!;
      const index = Int32Array.from({ length: dense.size }, (_, i) => i % 4);
      const frozen = Uint8Array.from([1, 0, 0, 0]);
      const shared = sharedWeights([
        {
          name: 'dense_1/kernel',
          shape: dense.shape,
          codebook: Float32Array.from([0, -0.1, 0.05, 0.2]),
          index,
          frozen,
        },
      ]);
      const quantize = (v: Float32Array) => v.map((x) => Math.round(x * 16) / 16);
      const ste = steKernel(new Map([['conv_2/kernel', quantize]]));
      const ranges = new Map([['conv_1', { min: 0, max: 1.5 }]]);
      const quantizeInPlace = (v: Float32Array, r: { min: number; max: number }) => {
        for (let i = 0; i < v.length; i++) v[i] = Math.round(Math.min(Math.max(v[i]!, r.min), r.max) * 8) / 8;
      };
      const variables = [...byName.values()].filter((v) => v !== dense).concat(shared.variables);
      const opts: FineTuneOptions = {
        ...baseOpts,
        masks: new Map([['conv_1/kernel', mask]]),
        kernelFor: (i, name, k) => (shared.layers.has(name) ? shared.kernelFor(i, name, k) : ste(i, name, k)),
        activationHook: steActivation(ranges, quantizeInPlace),
        variables,
        distill: { teacher, temperature: 4, alpha: 0.7 },
        constraints: {
          ste: new Map([['conv_2/kernel', quantize]]),
          shared: shared.layers,
          activations: { ranges, quantizeInPlace },
        },
      };
      const logs = await fineTune(model, data, opts);
      centroids[process.env.SQUASH_TRAINING_PATH!] = (shared.variables[0]!.dataSync() as Float32Array).slice();
      // Masked weights stayed 0 and the frozen centroid stayed exactly +0.
      const k1 = byName.get('conv_1/kernel')!.dataSync();
      expect(mask.every((m, i) => m || k1[i] === 0)).toBe(true);
      expect(Object.is(centroids[process.env.SQUASH_TRAINING_PATH!]![0], 0)).toBe(true);
      shared.dispose();
      return logs;
    });
    expect(plan!.logs[0]!.path).toBe('native-plan');
    expectClose(plan!.weights, autograd!.weights, 2e-4);
    const [a, b] = [centroids.plan!, centroids.autograd!];
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 4);
    expect(a[1]).not.toBeCloseTo(-0.1, 4);
    teacher.dispose();
    void d;
  });

  it('falls back to autograd for hooks given without their constraints, and says so', async () => {
    process.env.SQUASH_TRAINING_PATH = 'plan';
    const model = buildModel(resolveModelSpec('article-mlp'), [28, 28, 1], 5);
    const logs = await fineTune(model, await trainData(), { ...baseOpts, kernelFor: (_i, _n, k) => k });
    expect(logs[0]!.path).toBe('tfjs-autograd');
    model.dispose();
  });
});
