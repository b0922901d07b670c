import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '@squash/core';
import { selectBackend } from '@squash/backend';
import { buildModel, foldBatchNorm, getWeights, planLayers, setWeights, type ModelSpec } from './index.js';

const INPUT_SHAPE = [6, 6, 3];

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

/** A model with every weight random (variances positive), its folded twin, and both outputs on one random batch. */
function foldAndCompare(spec: ModelSpec, seed: number) {
  const rng = createRng(seed);
  const m = buildModel(spec, INPUT_SHAPE, 1);
  const weights = getWeights(m).map((w) => ({
    ...w,
    values: w.values.map(() => (w.name.endsWith('/moving_variance') ? 0.2 + rng.next() * 2 : rng.normal() * 0.5)),
  }));
  setWeights(m, weights);
  const result = foldBatchNorm(spec, weights, INPUT_SHAPE);
  const folded = buildModel(result.spec, INPUT_SHAPE, 2);
  setWeights(folded, result.weights);
  const x = tf.tensor(
    Float32Array.from({ length: 4 * 6 * 6 * 3 }, () => rng.normal()),
    [4, ...INPUT_SHAPE],
  );
  const a = (m.predict(x) as tf.Tensor).dataSync();
  const b = (folded.predict(x) as tf.Tensor).dataSync();
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  tf.dispose([x, m, folded] as unknown as tf.Tensor[]);
  return { result, diff, original: weights };
}

describe('foldBatchNorm', () => {
  it('folds conv, depthwise, separable and dense batch norms, with and without bias: same outputs', () => {
    const spec: ModelSpec = {
      name: 'foldable',
      layers: [
        { type: 'conv2d', name: 'c1', filters: 4, kernelSize: 3, padding: 'same', useBias: false },
        { type: 'batchNorm' },
        { type: 'activation', activation: 'relu' },
        { type: 'depthwiseConv2d', name: 'dw', kernelSize: 3, padding: 'same', depthMultiplier: 2, useBias: false },
        { type: 'batchNorm', scale: false },
        { type: 'separableConv2d', name: 'sep', filters: 5, kernelSize: 3, padding: 'same' },
        { type: 'batchNorm', center: false, epsilon: 0.01 },
        { type: 'depthwiseConv2d', name: 'dw_b', kernelSize: 1 },
        { type: 'batchNorm' },
        { type: 'separableConv2d', name: 'sep_nb', filters: 6, kernelSize: 3, useBias: false },
        { type: 'batchNorm' },
        { type: 'conv2d', name: 'c2', filters: 3, kernelSize: 1 },
        { type: 'batchNorm' },
        { type: 'flatten' },
        { type: 'dense', name: 'd1', units: 7, useBias: false },
        { type: 'batchNorm' },
        { type: 'dense', name: 'd2', units: 4 },
        { type: 'batchNorm' },
      ],
    };
    const { result, diff } = foldAndCompare(spec, 1);
    expect(result.folded).toEqual(['bn_1', 'bn_2', 'bn_3', 'bn_4', 'bn_5', 'bn_6', 'bn_7', 'bn_8']);
    expect(diff).toBeLessThan(1e-5);
    expect(result.spec.layers.map((l) => l.type)).not.toContain('batchNorm');
    // Every layer that had no bias gets one, right after its kernels (tfjs' order).
    expect(result.weights.map((w) => w.name)).toEqual([
      'c1/kernel',
      'c1/bias',
      'dw/depthwise_kernel',
      'dw/bias',
      'sep/depthwise_kernel',
      'sep/pointwise_kernel',
      'sep/bias',
      'dw_b/depthwise_kernel',
      'dw_b/bias',
      'sep_nb/depthwise_kernel',
      'sep_nb/pointwise_kernel',
      'sep_nb/bias',
      'c2/kernel',
      'c2/bias',
      'd1/kernel',
      'd1/bias',
      'd2/kernel',
      'd2/bias',
    ]);
    expect(result.weights.find((w) => w.name === 'dw/bias')!.shape).toEqual([8]);
    expect(result.spec.layers.find((l) => l.name === 'c1')).toEqual({
      type: 'conv2d',
      name: 'c1',
      filters: 4,
      kernelSize: 3,
      padding: 'same',
    });
  });

  it('keeps a batch norm after an add, after a relu conv, or on a conv something else also reads; rewires around the folded', () => {
    const spec: ModelSpec = {
      name: 'graph',
      layers: [
        { type: 'conv2d', name: 'stem', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'batchNorm', name: 'bn_relu' },
        { type: 'conv2d', name: 'a', filters: 4, kernelSize: 3, padding: 'same' },
        { type: 'batchNorm' },
        { type: 'add', name: 'sum', inputs: ['bn_1', 'bn_relu'] },
        { type: 'batchNorm', name: 'bn_sum' },
        { type: 'conv2d', name: 'shared', filters: 2, kernelSize: 1 },
        { type: 'batchNorm', name: 'bn_shared' },
        { type: 'concatenate', inputs: ['bn_shared', 'shared'] },
        // Unnamed like the folded bn_1: keeps its name bn_2 in the folded spec.
        { type: 'batchNorm' },
        { type: 'globalAvgPool2d' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
    };
    const { result, diff } = foldAndCompare(spec, 2);
    expect(result.folded).toEqual(['bn_1']);
    expect(diff).toBeLessThan(1e-5);
    const names = planLayers(result.spec, INPUT_SHAPE).map((p) => p.name);
    expect(names).toEqual([
      'stem',
      'bn_relu',
      'a',
      'sum',
      'bn_sum',
      'shared',
      'bn_shared',
      'concat_1',
      'bn_2',
      'gap_1',
      'dense_1',
    ]);
    expect(result.spec.layers.find((l) => l.name === 'sum')!.inputs).toEqual(['a', 'bn_relu']);
    expect(result.spec.layers.find((l) => l.name === 'a')!.inputs).toBeUndefined();
  });

  it('a model without a foldable batch norm comes back as it was', () => {
    const spec: ModelSpec = {
      name: 'plain',
      layers: [{ type: 'conv2d', filters: 2, kernelSize: 3, activation: 'relu' }, { type: 'batchNorm' }],
    };
    const { result, original } = foldAndCompare(spec, 3);
    expect(result.spec).toBe(spec);
    expect(result.weights).toBe(original);
    expect(result.folded).toEqual([]);
  });
});
