import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createRng, ConfigError, SpecError } from '@squash/core';
import { selectBackend } from '@squash/backend';
import { loadDataset, type Dataset } from '@squash/datasets';
import {
  dequantize,
  fakeQuantizeInPlace,
  quantizeTensor,
  writeArtifact,
  OUTPUT_AXIS,
  type ArtifactLayer,
} from '@squash/compressors';
import {
  activationHookFor,
  buildModel,
  evaluate,
  fineTune,
  forward,
  getWeights,
  layerCosts,
  loadModel,
  modelFromArtifact,
  planLayers,
  removeUnits,
  resolveModelSpec,
  saveModel,
  setWeights,
  sharedWeights,
  sparseCategoricalCrossEntropy,
  steActivation,
  steKernel,
  train,
  valuesHook,
  weightLayerNames,
  type ArtifactModelInfo,
  type ModelSpec,
} from './index.js';

// Real MNIST, a few hundred samples: enough for the loss to fall in a couple of epochs.
let data: Dataset;
// 28×28 → conv 3×3×4 relu (26×26×4) → pool 2 (13×13×4) → conv 3×3×6 stride 2 same (7×7×6) → pool 2 (3×3×6) → dense 10.
const tiny: ModelSpec = {
  name: 'tiny-conv',
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'conv2d', filters: 6, kernelSize: 3, strides: 2, padding: 'same' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};
const TINY_PARAMS = 3 * 3 * 1 * 4 + 4 + (3 * 3 * 4 * 6 + 6) + (3 * 3 * 6 * 10 + 10);

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  data = await loadDataset({ name: 'mnist', limits: { train: 512, test: 300 } });
});

async function trained(seed = 1, epochs = 3) {
  const m = buildModel(tiny, data.inputShape, seed);
  const logs = await train(m, data.train, { epochs, batchSize: 32, learningRate: 0.01, seed });
  return { m, logs };
}

const batch = (n = 40) => tf.tensor(data.test.x.subarray(0, n * 784), [n, 28, 28]);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

describe('conv models', () => {
  it("builds Caffe's LeNet-5 with 431,080 parameters, named conv_1, conv_2, dense_1, dense_2", () => {
    const spec = resolveModelSpec('lenet-5');
    const m = buildModel(spec, [28, 28], 1);
    expect(m.countParams()).toBe(431_080);
    expect(m.layers.map((l) => l.name)).toEqual([
      'reshape_1',
      'conv_1',
      'maxpool_1',
      'conv_2',
      'maxpool_2',
      'flatten_1',
      'dense_1',
      'dense_2',
    ]);
    expect(getWeights(m).map((w) => `${w.name} ${w.shape.join('×')}`)).toEqual([
      'conv_1/kernel 5×5×1×20',
      'conv_1/bias 20',
      'conv_2/kernel 5×5×20×50',
      'conv_2/bias 50',
      'dense_1/kernel 800×500',
      'dense_1/bias 500',
      'dense_2/kernel 500×10',
      'dense_2/bias 10',
    ]);
    expect(weightLayerNames(spec)).toEqual(['conv_1', 'conv_2', 'dense_1', 'dense_2']);
    // MACs per sample: outH·outW·kh·kw·in·out for a convolution, in·out for a dense layer.
    expect(layerCosts(spec, [28, 28]).map((c) => [c.name, c.params, c.macs])).toEqual([
      ['conv_1', 520, 24 * 24 * 5 * 5 * 1 * 20],
      ['conv_2', 25_050, 8 * 8 * 5 * 5 * 20 * 50],
      ['dense_1', 400_500, 800 * 500],
      ['dense_2', 5_010, 500 * 10],
    ]);
    // A [28, 28, 1] input needs no reshape.
    expect(buildModel(spec, [28, 28, 1], 1).layers[0]!.name).toBe('conv_1');
    // Dense layers keep their initialisation whether or not convolutions come first.
    const mlp = getWeights(buildModel(resolveModelSpec('lenet-300-100'), [28, 28], 1))[0]!.values;
    const withConv = buildModel(
      { name: 'x', layers: [{ type: 'flatten' }, { type: 'dense', units: 300 }] },
      [28, 28],
      1,
    );
    expect(Array.from(getWeights(withConv)[0]!.values.subarray(0, 50))).toEqual(Array.from(mlp.subarray(0, 50)));
  });

  it('checks conv specs field by field and in order, with the layer path', () => {
    const problems = (layers: unknown[]) => {
      try {
        resolveModelSpec({ name: 'x', layers } as ModelSpec);
        return [];
      } catch (e) {
        const list = e instanceof SpecError ? e.problems : [e as ConfigError];
        return list.map((p) => `${p.location?.path}: ${p.message}`);
      }
    };
    expect(problems([{ type: 'conv2d', kernelSize: 5 }])).toEqual([
      "model.layers[0]: conv2d needs 'filters' (output channels)",
    ]);
    expect(problems([{ type: 'conv2d', filters: 2, kernelSize: [5, 0] }])).toEqual([
      'model.layers[0].kernelSize: conv2d kernelSize must be a positive integer or [height, width] of positive integers, got [5,0]',
    ]);
    expect(problems([{ type: 'conv2d', filters: 2, kernelSize: 3, padding: 'full', units: 3 }])).toEqual([
      "model.layers[0].padding: unknown padding 'full'; expected one of valid, same",
      "model.layers[0].units: unknown field 'units' for a conv2d layer; expected one of filters, kernelSize, strides, padding, activation, useBias",
    ]);
    expect(problems([{ type: 'flatten' }, { type: 'conv2d', filters: 2, kernelSize: 3 }])).toEqual([
      'model.layers[1]: conv2d cannot follow a flatten layer: convolutions and pools come first',
    ]);
    expect(
      problems([
        { type: 'conv2d', filters: 2, kernelSize: 3 },
        { type: 'maxPool2d', poolSize: 2 },
        { type: 'dense', units: 10 },
      ]),
    ).toEqual(['model.layers[2]: dense after maxPool2d needs a { type: flatten } layer first']);
    expect(problems([{ type: 'conv' }])).toEqual([
      "model.layers[0]: unknown layer type 'conv'; expected one of flatten, dense, conv2d, depthwiseConv2d, separableConv2d, maxPool2d, avgPool2d, globalAvgPool2d, globalMaxPool2d, batchNorm, dropout, activation, add, concatenate, zeroPadding2d, reshape",
    ]);
    // Shapes are checked against the input when the model is built.
    const big = {
      name: 'x',
      layers: [
        { type: 'conv2d' as const, filters: 2, kernelSize: 5 },
        { type: 'maxPool2d' as const, poolSize: 32 },
      ],
    };
    expect(() => planLayers(big, [28, 28])).toThrow(/maxPool2d window 32×32 is larger than its input 24×24/);
    try {
      buildModel(big, [28, 28], 1);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).location?.path).toBe('model.layers[1]');
    }
    expect(() => buildModel(tiny, [784], 1)).toThrow(
      /conv2d needs image input \[height, width\] or \[height, width, channels\], got \[784\]/,
    );
  });

  it('forward computes what the layers compute (strides, same padding, pools), logits too', () => {
    const m = buildModel(tiny, data.inputShape, 3);
    expect(m.countParams()).toBe(TINY_PARAMS);
    const x = batch();
    const a = (m.predict(x) as tf.Tensor).dataSync();
    // Fused like tf.layers: bit for bit what predict computes.
    expect(Array.from(forward(m, x).dataSync())).toEqual(Array.from(a));
    expect(maxDiff(forward(m, x, { fuse: false }).dataSync(), a)).toBeLessThan(1e-5);
    expect(maxDiff(tf.softmax(forward(m, x, { fuse: false, logits: true })).dataSync(), a)).toBeLessThan(1e-5);
  });
});

describe('training conv models', () => {
  it('trains on MNIST: the loss falls, deterministically per seed', async () => {
    const a = await trained(1);
    expect(a.logs[2]!.loss).toBeLessThan(a.logs[0]!.loss);
    expect(evaluate(a.m, data.test).accuracy).toBeGreaterThan(0.5);
    const b = await trained(1);
    expect(Array.from(getWeights(b.m)[0]!.values)).toEqual(Array.from(getWeights(a.m)[0]!.values));
  });

  it('trains LeNet-5 a few steps on an MNIST subset: the loss falls', async () => {
    const m = buildModel(resolveModelSpec('lenet-5'), data.inputShape, 1);
    const logs = await train(m, data.train, { epochs: 2, batchSize: 64, learningRate: 0.001, seed: 1 });
    expect(logs[1]!.loss).toBeLessThan(logs[0]!.loss);
    expect(evaluate(m, data.test).accuracy).toBeGreaterThan(0.6);
    m.dispose();
  });

  it('holds masks on conv kernels at exactly zero through fine-tuning', async () => {
    const { m } = await trained(2, 1);
    const masks = new Map<string, Uint8Array>();
    for (const w of getWeights(m).filter((t) => t.name.startsWith('conv_') && t.name.endsWith('/kernel'))) {
      masks.set(
        w.name,
        Uint8Array.from(w.values, (_, i) => (i % 3 === 0 ? 1 : 0)),
      );
    }
    const before = getWeights(m);
    await fineTune(m, data.train, { epochs: 1, batchSize: 32, learningRate: 0.005, seed: 2, masks });
    for (const [name, mask] of masks) {
      const after = getWeights(m).find((w) => w.name === name)!.values;
      const old = before.find((w) => w.name === name)!.values;
      let zeros = 0,
        moved = 0;
      after.forEach((v, i) => (mask[i] ? v !== old[i] && moved++ : v === 0 && zeros++));
      expect(zeros).toBe(mask.length - mask.reduce((s, b) => s + b, 0));
      expect(moved).toBeGreaterThan(0);
    }
  });

  it('trains a conv kernel through a straight-through quantizer, and hidden conv activations fake-quantized', async () => {
    const { m } = await trained(3, 1);
    const q = (v: Float32Array) => Float32Array.from(v, (w) => Math.round(w * 8) / 8);
    const kernelFor = steKernel(new Map([['conv_2/kernel', q]]));
    const x = batch();
    const copy = buildModel(tiny, data.inputShape, 1);
    setWeights(
      copy,
      getWeights(m).map((w) => (w.name === 'conv_2/kernel' ? { ...w, values: q(w.values) } : w)),
    );
    expect(
      maxDiff(forward(m, x, { fuse: false, kernelFor }).dataSync(), (copy.predict(x) as tf.Tensor).dataSync()),
    ).toBeLessThan(1e-5);

    // The training-time activation quantizer and the evaluation hook agree on the conv outputs.
    const ranges = new Map([
      ['conv_1', { min: 0, max: 1.5 }],
      ['conv_2', { min: -2, max: 2 }],
    ]);
    const activationHook = steActivation(ranges, (v, r) => fakeQuantizeInPlace(v, r, 3));
    const seen: string[] = [];
    const hooked = forward(m, x, {
      activationHook: valuesHook((name, values) => {
        seen.push(name);
        fakeQuantizeInPlace(values, ranges.get(name)!, 3);
      }),
    });
    expect(seen).toEqual(['conv_1', 'conv_2']);
    expect(maxDiff(forward(m, x, { fuse: false, activationHook }).dataSync(), hooked.dataSync())).toBeLessThan(1e-5);

    const before = getWeights(m)
      .find((w) => w.name === 'conv_2/kernel')!
      .values.slice();
    await fineTune(m, data.train, {
      epochs: 1,
      batchSize: 64,
      learningRate: 0.005,
      seed: 3,
      kernelFor,
      activationHook,
    });
    expect(Array.from(getWeights(m).find((w) => w.name === 'conv_2/kernel')!.values)).not.toEqual(Array.from(before));
  });

  it("gives each shared centroid of a conv kernel the sum of its members' gradients", async () => {
    const { m } = await trained(4, 1);
    const k = getWeights(m).find((w) => w.name === 'conv_2/kernel')!;
    const codebook = Float32Array.from([0, -0.2, 0.1, 0.2]);
    const rng = createRng(5);
    const index = Int32Array.from(k.values, () => rng.int(4));
    const shared = sharedWeights([
      { name: 'conv_2/kernel', shape: k.shape, codebook, index, frozen: Uint8Array.from([1, 0, 0, 0]) },
    ]);
    const x = batch();
    const y = tf.tensor1d(Int32Array.from(data.test.y.subarray(0, 40)), 'int32');
    const { grads } = tf.variableGrads(
      () => sparseCategoricalCrossEntropy(y, forward(m, x, { fuse: false, kernelFor: shared.kernelFor })),
      shared.variables,
    );
    const got = grads[shared.variables[0]!.name]!.dataSync();
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
          forward(m, x, { fuse: false, kernelFor: (_i, n, v) => (n === 'conv_2/kernel' ? w : v) }),
        ),
      [w],
    );
    const g = ref.grads[w.name]!.dataSync();
    const sums = new Float64Array(4);
    index.forEach((c, i) => (sums[c] += g[i]!));
    for (let c = 0; c < 4; c++)
      expect(Math.abs(got[c]! - sums[c]!) / Math.max(1, Math.abs(sums[c]!))).toBeLessThan(1e-5);
    shared.dispose();
  });
});

describe('conv structure and files', () => {
  it('removes conv filters: the next conv loses input channels, the dense layer after the flatten loses their positions', async () => {
    const { m } = await trained(5, 1);
    const weights = getWeights(m);
    const get = (name: string) => weights.find((w) => w.name === name)!;
    // Zero the dropped filters (kernel and bias): conv_1's pass relu(0) = 0, conv_2's are linear 0,
    // so removing them changes nothing.
    const keep1 = Int32Array.from([0, 2, 3]);
    const keep2 = Int32Array.from([1, 4]);
    for (const [name, units, keep] of [
      ['conv_1', 4, keep1],
      ['conv_2', 6, keep2],
    ] as const) {
      get(`${name}/kernel`).values.forEach((_, i, v) => !keep.includes(i % units) && (v[i] = 0));
      get(`${name}/bias`).values.forEach((_, i, v) => !keep.includes(i) && (v[i] = 0));
    }
    setWeights(m, weights);
    const smaller = removeUnits(
      tiny,
      weights,
      new Map([
        ['conv_1', keep1],
        ['conv_2', keep2],
      ]),
    );
    expect(smaller.spec.layers.map((l) => (l.type === 'conv2d' ? l.filters : l.type))).toEqual([
      3,
      'maxPool2d',
      2,
      'maxPool2d',
      'flatten',
      'dense',
    ]);
    expect(smaller.weights.map((w) => `${w.name} ${w.shape.join('×')}`)).toEqual([
      'conv_1/kernel 3×3×1×3',
      'conv_1/bias 3',
      'conv_2/kernel 3×3×3×2',
      'conv_2/bias 2',
      'dense_1/kernel 18×10',
      'dense_1/bias 10',
    ]);
    const m2 = buildModel(smaller.spec, data.inputShape, 1);
    setWeights(m2, smaller.weights);
    expect(m2.countParams()).toBe(9 * 3 + 3 + 9 * 3 * 2 + 2 + 18 * 10 + 10);
    const x = batch();
    expect(maxDiff((m2.predict(x) as tf.Tensor).dataSync(), (m.predict(x) as tf.Tensor).dataSync())).toBeLessThan(1e-5);
    expect(() => removeUnits(tiny, weights, new Map([['dense_1', keep1]]))).toThrow(/output layer/);
    expect(() => removeUnits(tiny, weights, new Map([['conv_3', keep1]]))).toThrow(
      /no weight layer conv_3; layers: conv_1, conv_2, dense_1/,
    );
  });

  it('round-trips through model.json and through a .sqz artifact with per-channel quantized, pruned 4-D kernels, exactly', async () => {
    const { m } = await trained(6, 1);
    const dir = join(mkdtempSync(join(tmpdir(), 'squash-conv-')), 'model');
    await saveModel(m, dir);
    expect(evaluate(await loadModel(dir), data.test)).toEqual(evaluate(m, data.test));

    // conv_1: 4-bit per output channel (the last axis); conv_2: pruned to a third, then k-means 3-bit.
    const weights = getWeights(m);
    const layers: ArtifactLayer[] = weights.map((w) => {
      if (w.name === 'conv_1/kernel') {
        const q = quantizeTensor(w.values, w.shape, { scheme: 'symmetric', bits: 4, channelAxis: OUTPUT_AXIS });
        expect(q.codebook.length).toBe(4 * 15); // one codebook per filter
        w.values = dequantize(q);
        return { name: w.name, shape: w.shape, encoding: { kind: 'quantized', q } };
      }
      if (w.name === 'conv_2/kernel') {
        const mask = Uint8Array.from(w.values, (_, i) => (i % 3 === 0 ? 1 : 0));
        const q = quantizeTensor(w.values, w.shape, { scheme: 'kmeans', bits: 3, channelAxis: null, mask });
        w.values = dequantize(q);
        return { name: w.name, shape: w.shape, encoding: { kind: 'quantized', q, mask, indexBits: 4, huffman: true } };
      }
      return { name: w.name, shape: w.shape, encoding: { kind: 'float32', values: w.values } };
    });
    setWeights(m, weights);
    const info: ArtifactModelInfo = {
      format: 'squash-model',
      spec: tiny,
      inputShape: data.inputShape,
      activations: { conv_1: { bits: 4, min: 0, max: 1.5 } },
    };
    const expected = evaluate(m, data.test, { activationHook: activationHookFor(info) });
    const back = modelFromArtifact(writeArtifact(info, layers).bytes);
    const decoded = getWeights(back.model);
    decoded.forEach((w, i) => {
      expect(w.shape).toEqual(weights[i]!.shape);
      expect(Array.from(w.values)).toEqual(Array.from(weights[i]!.values));
    });
    expect(evaluate(back.model, data.test, { activationHook: back.activationHook })).toEqual(expected);
  });
});
