import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '@squash/core';
import { selectBackend } from '@squash/backend';
import { loadDataset, type Dataset } from '@squash/datasets';
import {
  buildModel,
  distillationLoss,
  evaluate,
  fineTune,
  forward,
  getWeights,
  removeUnits,
  setWeights,
  sharedWeights,
  sparseCategoricalCrossEntropy,
  steKernel,
  train,
  type ModelSpec,
} from './index.js';

let data: Dataset;
const spec: ModelSpec = {
  name: 'tiny',
  layers: [
    { type: 'flatten' },
    { type: 'dense', units: 16, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  data = await loadDataset({ name: 'synthetic', samples: { train: 600, test: 200 } });
});

async function trained(seed = 1) {
  const m = buildModel(spec, data.inputShape, seed);
  await train(m, data.train, { epochs: 4, batchSize: 32, learningRate: 0.002, seed });
  return m;
}

const batch = () => tf.tensor(data.test.x.subarray(0, 50 * 784), [50, 28, 28]);

describe('forward', () => {
  it('computes what the layers compute, and logits before the softmax', async () => {
    const m = await trained();
    const x = batch();
    const a = (m.predict(x) as tf.Tensor).dataSync();
    // Fused like tf.layers: bit for bit what predict computes.
    expect(Array.from(forward(m, x).dataSync())).toEqual(Array.from(a));
    const b = forward(m, x, { fuse: false }).dataSync();
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
    const p = tf.softmax(forward(m, x, { fuse: false, logits: true })).dataSync();
    for (let i = 0; i < a.length; i++) expect(p[i]).toBeCloseTo(a[i]!, 5);
  });
});

describe('fineTune', () => {
  it('keeps pruned weights at exactly zero through every step', async () => {
    const m = await trained();
    const kernel = getWeights(m).find((w) => w.name === 'dense_1/kernel')!;
    const mask = Uint8Array.from(kernel.values, (_, i) => (i % 3 === 0 ? 1 : 0));
    let steps = 0;
    await fineTune(m, data.train, {
      epochs: 1,
      batchSize: 32,
      learningRate: 0.001,
      seed: 2,
      masks: new Map([['dense_1/kernel', mask]]),
      afterStep: () => steps++,
    });
    expect(steps).toBe(Math.ceil(600 / 32));
    const after = getWeights(m).find((w) => w.name === 'dense_1/kernel')!.values;
    let zeros = 0,
      keptNonzero = 0;
    after.forEach((v, i) => (mask[i] ? v !== 0 && keptNonzero++ : v === 0 && zeros++));
    expect(zeros).toBe(mask.length - mask.reduce((a, b) => a + b, 0));
    expect(keptNonzero).toBeGreaterThan(0);
  });

  it('trains through a straight-through quantizer: the forward pass sees the quantized kernel', async () => {
    const m = await trained();
    const q = (v: Float32Array) => Float32Array.from(v, (w) => Math.round(w * 8) / 8);
    const kernelFor = steKernel(new Map([['dense_1/kernel', q]]));
    const x = batch();
    const viaSte = forward(m, x, { fuse: false, kernelFor }).dataSync();
    const copy = buildModel(spec, data.inputShape, 1);
    setWeights(
      copy,
      getWeights(m).map((w) => (w.name === 'dense_1/kernel' ? { ...w, values: q(w.values) } : w)),
    );
    const direct = (copy.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < direct.length; i++) expect(viaSte[i]).toBeCloseTo(direct[i]!, 5);
    // And the gradient reaches the float kernel (it changes during QAT).
    const before = getWeights(m)[1]!.values.slice();
    await fineTune(m, data.train, { epochs: 1, batchSize: 64, learningRate: 0.001, seed: 3, kernelFor });
    expect(Array.from(getWeights(m)[1]!.values)).not.toEqual(Array.from(before));
  });

  it("gives each shared centroid the sum of its members' gradients (Deep Compression)", async () => {
    const m = await trained();
    const k = getWeights(m).find((w) => w.name === 'dense_1/kernel')!;
    const codebook = Float32Array.from([0, -0.1, 0.05, 0.1]);
    const rng = createRng(5);
    const index = Int32Array.from(k.values, () => rng.int(4));
    const frozen = Uint8Array.from([1, 0, 0, 0]);
    const shared = sharedWeights([{ name: 'dense_1/kernel', shape: k.shape, codebook, index, frozen }]);
    const x = batch();
    const y = tf.tensor1d(Int32Array.from(data.test.y.subarray(0, 50)), 'int32');
    const { grads } = tf.variableGrads(
      () => sparseCategoricalCrossEntropy(y, forward(m, x, { fuse: false, kernelFor: shared.kernelFor })),
      shared.variables,
    );
    const got = grads[shared.variables[0]!.name]!.dataSync();
    // Reference: the gradient w.r.t. the dense kernel holding the shared values, summed per cluster.
    const w = tf.variable(
      tf.tensor(
        Float32Array.from(index, (i) => codebook[i]!),
        k.shape,
      ),
    );
    const ref = tf.variableGrads(
      () =>
        sparseCategoricalCrossEntropy(
          y,
          forward(m, x, { fuse: false, kernelFor: (_i, n, v) => (n === 'dense_1/kernel' ? w : v) }),
        ),
      [w],
    );
    const g = ref.grads[w.name]!.dataSync();
    const sums = new Float64Array(4);
    index.forEach((c, i) => (sums[c] += g[i]!));
    for (let c = 0; c < 4; c++)
      expect(Math.abs(got[c]! - sums[c]!) / Math.max(1, Math.abs(sums[c]!))).toBeLessThan(1e-5);
    await fineTune(m, data.train, {
      epochs: 1,
      batchSize: 64,
      learningRate: 0.01,
      seed: 3,
      kernelFor: shared.kernelFor,
      variables: shared.variables,
      constraints: { shared: shared.layers },
    });
    const c = shared.variables[0]!.dataSync();
    expect(c[0]).toBe(0); // the frozen zero symbol stays exactly 0
    expect(Array.from(c.slice(1))).not.toEqual(Array.from(codebook.slice(1)));
    shared.dispose();
  });

  it('distils: α = 0 is plain cross-entropy, and a student learns from a teacher', async () => {
    const logits = tf.tensor2d([
      [2, 1, 0.1],
      [0.5, 2.5, 0],
    ]);
    const y = tf.tensor1d([0, 1], 'int32');
    const ce = sparseCategoricalCrossEntropy(y, tf.softmax(logits)).dataSync()[0]!;
    expect(
      distillationLoss(
        y,
        logits,
        tf.tensor2d([
          [0, 0, 9],
          [9, 0, 0],
        ]),
        4,
        0,
      ).dataSync()[0],
    ).toBeCloseTo(ce, 5);
    // Student == teacher → the soft term is 0.
    expect(distillationLoss(y, logits, logits, 4, 1).dataSync()[0]).toBeCloseTo(0, 5);

    const teacher = await trained();
    const student = buildModel(
      {
        name: 'student',
        layers: [
          { type: 'flatten' },
          { type: 'dense', units: 8, activation: 'relu' },
          { type: 'dense', units: 10, activation: 'softmax' },
        ],
      },
      data.inputShape,
      9,
    );
    await fineTune(student, data.train, {
      epochs: 4,
      batchSize: 32,
      learningRate: 0.003,
      seed: 4,
      distill: { teacher, temperature: 4, alpha: 0.7 },
    });
    expect(evaluate(student, data.test).accuracy).toBeGreaterThan(0.7);
  });
});

describe('removeUnits', () => {
  it('physically removes dense units and keeps outputs when the removed units were already dead', async () => {
    const m = await trained();
    const weights = getWeights(m);
    const keep = Int32Array.from([0, 2, 4, 6, 8, 10, 12, 14]);
    // Zero the dropped units' incoming weights and bias: they output relu(0) = 0, so removing them changes nothing.
    const k1 = weights.find((w) => w.name === 'dense_1/kernel')!;
    const b1 = weights.find((w) => w.name === 'dense_1/bias')!;
    for (let r = 0; r < 784; r++) for (let c = 1; c < 16; c += 2) k1.values[r * 16 + c] = 0;
    for (let c = 1; c < 16; c += 2) b1.values[c] = 0;
    setWeights(m, weights);
    const smaller = removeUnits(spec, weights, new Map([['dense_1', keep]]));
    expect(smaller.spec.layers[1]).toEqual({ type: 'dense', units: 8, activation: 'relu' });
    const m2 = buildModel(smaller.spec, data.inputShape, 1);
    setWeights(m2, smaller.weights);
    expect(m2.countParams()).toBe(784 * 8 + 8 + 8 * 10 + 10);
    const x = batch();
    const a = (m.predict(x) as tf.Tensor).dataSync();
    const b = (m2.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
    expect(() => removeUnits(spec, weights, new Map([['dense_2', keep]]))).toThrow(/output layer/);
  });
});
