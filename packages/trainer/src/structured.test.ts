import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, createRng, type WeightTensor } from '@squash/core';
import { selectBackend } from '@squash/backend';
import { buildModel, getWeights, removeUnits, setWeights, unitLayers, type ModelSpec } from './index.js';

const INPUT_SHAPE = [6, 6, 2];

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

// c1 → bn → relu → depthwise (×2) → bn → separable → relu → c2 → pool → pad ─┬→ c3 ─→ add → gap → d1 → d2
//                                                                            └────────┘
const GRAPH: ModelSpec = {
  name: 'graph-units',
  layers: [
    { type: 'conv2d', name: 'c1', filters: 6, kernelSize: 3, padding: 'same' },
    { type: 'batchNorm' },
    { type: 'activation', activation: 'relu' },
    { type: 'depthwiseConv2d', name: 'dw', kernelSize: 3, padding: 'same', depthMultiplier: 2 },
    { type: 'batchNorm' },
    { type: 'separableConv2d', name: 's1', filters: 5, kernelSize: 1 },
    { type: 'activation', activation: 'relu' },
    { type: 'conv2d', name: 'c2', filters: 4, kernelSize: 1 },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'zeroPadding2d', name: 'pad', pad: 1 },
    { type: 'conv2d', name: 'c3', filters: 4, kernelSize: 1, activation: 'relu' },
    { type: 'add', name: 'sum', inputs: ['c3', 'pad'] },
    { type: 'globalAvgPool2d' },
    { type: 'dense', name: 'd1', units: 3, activation: 'relu' },
    { type: 'dense', name: 'd2', units: 2, activation: 'softmax' },
  ],
};

function randomModel(spec: ModelSpec, seed: number, inputShape?: number[]) {
  const rng = createRng(seed);
  const m = buildModel(spec, inputShape ?? INPUT_SHAPE, 1);
  const weights = getWeights(m).map((w) => ({
    ...w,
    values: w.values.map(() => (w.name.endsWith('/moving_variance') ? 0.5 + rng.next() : rng.normal() * 0.5)),
  }));
  return { m, weights, rng };
}

/** Zeroes rows `drop` of a kernel's input axis (second to last), so those input channels stop mattering. */
function zeroRows(w: WeightTensor, drop: number[]): void {
  const [inputs, out] = w.shape.slice(-2) as [number, number];
  w.values.forEach((_, i, v) => {
    if (drop.includes(Math.floor(i / out) % inputs)) v[i] = 0;
  });
}

function maxDiff(a: tf.LayersModel, b: tf.LayersModel, x: tf.Tensor): number {
  const p = (a.predict(x) as tf.Tensor).dataSync();
  const q = (b.predict(x) as tf.Tensor).dataSync();
  let d = 0;
  for (let i = 0; i < p.length; i++) d = Math.max(d, Math.abs(p[i]! - q[i]!));
  return d;
}

describe('removeUnits on graphs', () => {
  it('follows channels through batch norm, activations, depthwise (×M), separable, pooling and padding to the layers that mix them', () => {
    const { m, weights, rng } = randomModel(GRAPH, 1);
    const get = (name: string) => weights.find((w) => w.name === name)!;
    // Make the removed channels irrelevant where they are mixed: then removing them changes nothing.
    // c1 drops 1 and 4 → dw's channels 2, 3, 8, 9 → s1's pointwise rows; s1 drops 0, 2 → c2's rows; d1 drops 1 → d2's.
    zeroRows(get('s1/pointwise_kernel'), [2, 3, 8, 9]);
    zeroRows(get('c2/kernel'), [0, 2]);
    zeroRows(get('d2/kernel'), [1]);
    setWeights(m, weights);
    const keep = new Map([
      ['c1', Int32Array.from([0, 2, 3, 5])],
      ['s1', Int32Array.from([1, 3, 4])],
      ['d1', Int32Array.from([0, 2])],
    ]);
    const smaller = removeUnits(GRAPH, weights, keep, INPUT_SHAPE);
    const shapes = Object.fromEntries(smaller.weights.map((w) => [w.name, w.shape.join('×')]));
    expect(shapes).toMatchObject({
      'c1/kernel': '3×3×2×4',
      'c1/bias': '4',
      'bn_1/gamma': '4',
      'bn_1/moving_variance': '4',
      'dw/depthwise_kernel': '3×3×4×2',
      'dw/bias': '8',
      'bn_2/beta': '8',
      's1/depthwise_kernel': '1×1×8×1',
      's1/pointwise_kernel': '1×1×8×3',
      's1/bias': '3',
      'c2/kernel': '1×1×3×4',
      'd1/kernel': '4×2',
      'd2/kernel': '2×2',
    });
    // The spec lost the units too; the depthwise layer's channel count follows its input.
    expect(smaller.spec.layers.map((l) => ('filters' in l ? l.filters : 'units' in l ? l.units : '-'))).toEqual(
      ['4', '-', '-', '-', '-', '3', '-', '4', '-', '-', '4', '-', '-', '2', '2'].map((v) =>
        v === '-' ? v : Number(v),
      ),
    );
    const m2 = buildModel(smaller.spec, INPUT_SHAPE, 2);
    setWeights(m2, smaller.weights);
    expect(m2.countParams()).toBe(smaller.weights.reduce((n, w) => n + w.values.length, 0));
    expect(m2.countParams()).toBeLessThan(m.countParams());
    const x = tf.tensor(
      Float32Array.from({ length: 3 * 72 }, () => rng.normal()),
      [3, ...INPUT_SHAPE],
    );
    expect(maxDiff(m, m2, x)).toBeLessThan(1e-5);
  });

  it('refuses channels tied by an add, or that are the model output, naming the layer that ties them', () => {
    const { weights } = randomModel(GRAPH, 2);
    const one = Int32Array.from([0]);
    const refused = (layer: string) => () => removeUnits(GRAPH, weights, new Map([[layer, one]]), INPUT_SHAPE);
    expect(refused('c2')).toThrow(ConfigError);
    expect(refused('c2')).toThrow(/c2's filters feed the add sum; they cannot be removed alone/);
    expect(refused('c3')).toThrow(/c3's filters feed the add sum/);
    expect(refused('d2')).toThrow(/d2 is the output layer; its units are the classes/);
    expect(refused('dw')).toThrow(/dw is a depthwiseConv2d; its channels follow its input/);
    expect(unitLayers(GRAPH, INPUT_SHAPE)).toEqual([
      { name: 'c1', type: 'conv2d', kernel: 'c1/kernel' },
      { name: 's1', type: 'separableConv2d', kernel: 's1/pointwise_kernel' },
      { name: 'c2', type: 'conv2d', kernel: 'c2/kernel', tie: { layer: 'sum', type: 'add' } },
      { name: 'c3', type: 'conv2d', kernel: 'c3/kernel', tie: { layer: 'sum', type: 'add' } },
      { name: 'd1', type: 'dense', kernel: 'd1/kernel' },
      { name: 'd2', type: 'dense', kernel: 'd2/kernel', tie: { layer: 'd2', type: 'output' } },
    ]);
  });

  it('refuses a concatenate, a reshape, and channels that reach the output through a pooling layer', () => {
    const spec: ModelSpec = {
      name: 'ties',
      layers: [
        { type: 'conv2d', name: 'a', filters: 3, kernelSize: 1 },
        { type: 'conv2d', name: 'b', filters: 3, kernelSize: 1, inputs: ['input'] },
        { type: 'concatenate', name: 'cat', inputs: ['a', 'b'] },
        { type: 'conv2d', name: 'r', filters: 4, kernelSize: 1 },
        { type: 'reshape', name: 'flat', targetShape: [-1] },
        { type: 'dense', name: 'e', units: 4 },
        { type: 'reshape', name: 'img', targetShape: [2, 2, 1] },
        { type: 'conv2d', name: 'last', filters: 3, kernelSize: 1 },
        { type: 'globalMaxPool2d', name: 'gmp' },
      ],
    };
    expect(unitLayers(spec, INPUT_SHAPE).map((u) => [u.name, u.tie?.type, u.tie?.layer])).toEqual([
      ['a', 'concatenate', 'cat'],
      ['b', 'concatenate', 'cat'],
      ['r', 'reshape', 'flat'],
      ['e', 'reshape', 'img'],
      ['last', 'output', 'gmp'],
    ]);
    const { weights } = randomModel(spec, 3);
    expect(() => removeUnits(spec, weights, new Map([['last', Int32Array.from([0])]]), INPUT_SHAPE)).toThrow(
      /last's filters reach the model output through gmp; they are the classes/,
    );
  });

  it('a chain without an input shape: batch-norm entries go with the filters, every flattened position too', () => {
    const spec: ModelSpec = {
      name: 'chain',
      layers: [
        { type: 'conv2d', filters: 3, kernelSize: 3 },
        { type: 'batchNorm' },
        { type: 'flatten' },
        { type: 'batchNorm' },
        { type: 'dense', units: 2 },
      ],
    };
    const { m, weights, rng } = randomModel(spec, 4);
    // conv_1 drops filter 1: dense_1's rows 4·4 positions × 3 channels, channel fastest.
    zeroRows(
      weights.find((w) => w.name === 'dense_1/kernel')!,
      [1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 34, 37, 40, 43, 46],
    );
    setWeights(m, weights);
    const smaller = removeUnits(spec, weights, new Map([['conv_1', Int32Array.from([0, 2])]]));
    expect(smaller.weights.map((w) => `${w.name} ${w.shape.join('×')}`)).toEqual([
      'conv_1/kernel 3×3×2×2',
      'conv_1/bias 2',
      'bn_1/gamma 2',
      'bn_1/beta 2',
      'bn_1/moving_mean 2',
      'bn_1/moving_variance 2',
      'bn_2/gamma 32',
      'bn_2/beta 32',
      'bn_2/moving_mean 32',
      'bn_2/moving_variance 32',
      'dense_1/kernel 32×2',
      'dense_1/bias 2',
    ]);
    const m2 = buildModel(smaller.spec, INPUT_SHAPE, 2);
    setWeights(m2, smaller.weights);
    const x = tf.tensor(
      Float32Array.from({ length: 2 * 72 }, () => rng.normal()),
      [2, ...INPUT_SHAPE],
    );
    expect(maxDiff(m, m2, x)).toBeLessThan(1e-5);
  });
});
