import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@squash/backend';
import { loadDataset, type Dataset } from '@squash/datasets';
import {
  buildModel,
  evaluate,
  fineTune,
  forward,
  getWeights,
  setWeights,
  steKernel,
  train,
  updateMovingStats,
  type BatchMoments,
  type ModelSpec,
  type TrainOptions,
} from './index.js';

/** A small residual CNN: conv → BN → relu, then depthwise → BN → relu → separable added back, dropout, pool, dense. */
function residual(rate = 0.25): ModelSpec {
  return {
    name: 'residual-small',
    layers: [
      { type: 'conv2d', filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'c1' },
      // Momentum 0.9, not Keras' 0.99: the moving averages must settle within a test's few dozen steps.
      { type: 'batchNorm', name: 'bn1', momentum: 0.9 },
      { type: 'activation', activation: 'relu', name: 'a1' },
      { type: 'depthwiseConv2d', kernelSize: 3, padding: 'same', name: 'dw' },
      { type: 'batchNorm', name: 'bn2', momentum: 0.9 },
      { type: 'activation', activation: 'relu', name: 'a2' },
      { type: 'separableConv2d', filters: 8, kernelSize: 3, padding: 'same', name: 'sep' },
      { type: 'add', name: 'res', inputs: ['a1', 'sep'] },
      { type: 'dropout', rate, name: 'drop' },
      { type: 'maxPool2d', poolSize: 2, name: 'mp' },
      { type: 'flatten', name: 'f' },
      { type: 'dense', units: 10, activation: 'softmax', name: 'out' },
    ],
  };
}

let data: Dataset;
const nativeAvailable = await selectBackend({ prefer: 'native' }).then(
  () => true,
  () => false,
);
if (!nativeAvailable) console.warn('native backend unavailable: training-mode tests run on cpu');
const main = nativeAvailable ? 'native' : 'cpu';

async function use(backend: string): Promise<void> {
  await selectBackend({ prefer: backend as 'native' | 'cpu' | 'wasm' });
  await tf.setBackend(backend);
  expect(tf.getBackend()).toBe(backend);
}

beforeAll(async () => {
  data = await loadDataset({ name: 'synthetic', samples: { train: 480, test: 200 } });
});

const opts: TrainOptions = { epochs: 2, batchSize: 32, learningRate: 0.01, seed: 7 };
/** The first n training samples. */
const subset = (n: number) => ({ x: data.train.x.subarray(0, n * 784), y: data.train.y.subarray(0, n), count: n });
/** One step at batch size 32. */
const oneBatch = () => subset(32);
const weightsOf = (m: tf.LayersModel) => new Map(getWeights(m).map((w) => [w.name, w.values]));

describe('dropout in training mode', () => {
  const spec: ModelSpec = {
    name: 'drop-only',
    layers: [{ type: 'flatten' }, { type: 'dropout', rate: 0.4, name: 'drop' }],
  };
  const x = tf.tidy(() => tf.add(tf.randomUniform([10, 40, 25], 0, 1, 'float32', 3), 0.5));
  const xs = x.dataSync();
  const run = (training?: { seed: number; step: number }, s = spec) => {
    const m = buildModel(s, [40, 25], 1);
    const out = forward(m, x, { training }).dataSync().slice();
    m.dispose();
    return out;
  };

  it('drops about rate of the values and scales the kept ones by 1/(1 − rate)', async () => {
    await use(main);
    const out = run({ seed: 1, step: 1 });
    const scale = Math.fround(1 / Math.fround(0.6));
    let dropped = 0;
    out.forEach((v, i) => {
      if (v === 0) dropped++;
      else expect(v).toBe(Math.fround(xs[i]! * scale));
    });
    // 10 000 Bernoulli(0.4) draws: sd ≈ 0.005.
    expect(Math.abs(dropped / out.length - 0.4)).toBeLessThan(0.02);
  });

  it('is deterministic per (seed, step), differs across steps and seeds, and is the identity at inference', async () => {
    await use(main);
    const a = run({ seed: 1, step: 1 });
    expect(Array.from(run({ seed: 1, step: 1 }))).toEqual(Array.from(a));
    const differ = (u: ArrayLike<number>, v: ArrayLike<number>) =>
      Array.from(u).some((e, i) => (e === 0) !== (v[i] === 0));
    expect(differ(a, run({ seed: 1, step: 2 }))).toBe(true);
    expect(differ(a, run({ seed: 2, step: 1 }))).toBe(true);
    expect(Array.from(run())).toEqual(Array.from(xs));
    // Rate 0 is the identity in training too (as in tfjs-layers).
    const none: ModelSpec = { ...spec, layers: [{ type: 'flatten' }, { type: 'dropout', rate: 0 }] };
    expect(Array.from(run({ seed: 1, step: 1 }, none))).toEqual(Array.from(xs));
  });

  it('gives the same mask on every backend, and its gradient is the mask', async () => {
    const maskOn = async (backend: string) => {
      await use(backend);
      const m = buildModel(spec, [40, 25], 1);
      const g = tf
        .grad((v: tf.Tensor) => tf.sum(forward(m, v, { training: { seed: 5, step: 3 } })))(x)
        .dataSync();
      m.dispose();
      return g;
    };
    const ref = await maskOn(main);
    const scale = Math.fround(1 / Math.fround(0.6));
    expect(ref.every((v) => v === 0 || v === scale)).toBe(true);
    for (const b of ['cpu', 'wasm']) expect(Array.from(await maskOn(b)), b).toEqual(Array.from(ref));
  });
});

describe('training a residual CNN with batch norm, dropout and depthwise convolutions', () => {
  it(`learns the synthetic task on ${main}`, async () => {
    await use(main);
    const m = buildModel(residual(), data.inputShape, 1);
    const logs = await train(m, data.train, opts);
    // Evaluation is in inference mode: it reads the moving statistics training kept up to date.
    expect(evaluate(m, data.test).accuracy).toBeGreaterThan(0.7);
    expect(logs[1]!.loss).toBeLessThan(logs[0]!.loss);
    const w = weightsOf(m);
    expect(w.get('bn1/moving_mean')!.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(w.get('bn2/moving_variance')!.some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
    m.dispose();
  });

  it('trains to the same weights from the same seed, dropout masks included', async () => {
    await use(main);
    const run = async () => {
      const m = buildModel(residual(), data.inputShape, 1);
      await train(m, subset(160), opts);
      const w = weightsOf(m);
      m.dispose();
      return w;
    };
    const a = await run();
    const b = await run();
    for (const [name, values] of b) expect(Array.from(values), name).toEqual(Array.from(a.get(name)!));
  });

  it('drops out in training: the first step with rate 0.5 has another loss than with rate 0', async () => {
    await use(main);
    const firstLoss = async (rate: number) => {
      const m = buildModel(residual(rate), data.inputShape, 1);
      const [log] = await train(m, oneBatch(), { ...opts, epochs: 1 });
      m.dispose();
      return log!.loss;
    };
    expect(Math.abs((await firstLoss(0.5)) - (await firstLoss(0)))).toBeGreaterThan(1e-3);
  });

  it('takes the same first step on wasm and cpu as on the main backend', async () => {
    const oneStep = async (backend: string) => {
      await use(backend);
      const m = buildModel(residual(), data.inputShape, 2);
      const before = weightsOf(m);
      const [log] = await train(m, oneBatch(), { ...opts, epochs: 1 });
      const after = weightsOf(m);
      m.dispose();
      return { loss: log!.loss, before, after };
    };
    const ref = await oneStep(main);
    for (const backend of ['wasm', 'cpu'].filter((b) => b !== main)) {
      const got = await oneStep(backend);
      expect(Number.isFinite(got.loss)).toBe(true);
      // The step's loss and the batch moments come from the forward pass: equal up to float rounding.
      expect(Math.abs(got.loss - ref.loss), backend).toBeLessThan(1e-4);
      for (const [name, values] of got.after) {
        const moved = values.some((v, i) => v !== got.before.get(name)![i]);
        // Every trainable weight and every moving statistic moves in one step.
        expect(moved, `${backend}: ${name} moved`).toBe(true);
        if (name.includes('/moving_')) {
          const r = ref.after.get(name)!;
          expect(
            values.every((v, i) => Math.abs(v - r[i]!) < 1e-5),
            `${backend}: ${name}`,
          ).toBe(true);
        }
      }
    }
  });
});

describe('fine-tuning depthwise and separable kernels', () => {
  it('keeps masked depthwise and pointwise weights at exactly zero, and refuses a mask on a moving statistic', async () => {
    await use(main);
    const m = buildModel(residual(), data.inputShape, 3);
    const w = weightsOf(m);
    const masks = new Map(
      ['dw/depthwise_kernel', 'sep/depthwise_kernel', 'sep/pointwise_kernel'].map((n) => [
        n,
        // Every third weight kept: a pattern that leaves no channel all zero (every other one would).
        Uint8Array.from(w.get(n)!, (_, i) => (i % 3 === 0 ? 1 : 0)),
      ]),
    );
    await fineTune(m, subset(160), { ...opts, epochs: 1, masks });
    const after = weightsOf(m);
    for (const [name, mask] of masks) {
      const v = after.get(name)!;
      let moved = 0;
      // Pruned: exactly zero (a negative weight times its 0 mask is −0, which compresses as 0).
      mask.forEach((k, i) => (k ? v[i] !== w.get(name)![i] && moved++ : expect(v[i] === 0, name).toBe(true)));
      expect(moved, `${name}: kept weights train`).toBe(mask.filter((k) => k).length);
    }
    const bad = new Map([['bn1/moving_mean', Uint8Array.from([1, 0, 1, 0, 1, 0, 1, 0])]]);
    await expect(fineTune(m, data.train, { ...opts, masks: bad })).rejects.toThrow(
      /bn1\/moving_mean, which is not a trainable weight/,
    );
    m.dispose();
  });

  it('trains a depthwise kernel through a straight-through quantizer', async () => {
    await use(main);
    const m = buildModel(residual(), data.inputShape, 4);
    const q = (v: Float32Array) => Float32Array.from(v, (e) => Math.round(e * 4) / 4);
    const kernelFor = steKernel(new Map([['dw/depthwise_kernel', q]]));
    const x = tf.tensor(data.test.x.subarray(0, 20 * 784), [20, 28, 28]);
    // The forward pass sees the quantized kernel: it equals a copy holding the quantized values.
    const copy = buildModel(residual(), data.inputShape, 4);
    setWeights(
      copy,
      getWeights(m).map((t) => (t.name === 'dw/depthwise_kernel' ? { ...t, values: q(t.values) } : t)),
    );
    const viaSte = forward(m, x, { fuse: false, kernelFor }).dataSync();
    const direct = forward(copy, x, { fuse: false }).dataSync();
    viaSte.forEach((v, i) => expect(Math.abs(v - direct[i]!)).toBeLessThan(1e-6));
    expect(Array.from(viaSte)).not.toEqual(Array.from(forward(m, x, { fuse: false }).dataSync()));
    // And the float kernel under it trains.
    const before = weightsOf(m).get('dw/depthwise_kernel')!;
    await fineTune(m, subset(160), { ...opts, epochs: 1, kernelFor });
    const after = weightsOf(m).get('dw/depthwise_kernel')!;
    expect(after.filter((v, i) => v !== before[i]).length).toBe(after.length);
    tf.dispose([x]);
    m.dispose();
    copy.dispose();
  });
});

describe('training-mode forward without a training loop', () => {
  it("normalizes each channel with the batch's own moments, without gamma and beta too", async () => {
    await use(main);
    const spec: ModelSpec = {
      name: 'bn-only',
      layers: [
        { type: 'reshape', targetShape: [4, 5, 3] },
        { type: 'batchNorm', center: false, scale: false },
      ],
    };
    const m = buildModel(spec, [60], 1);
    expect(getWeights(m).map((w) => w.name)).toEqual(['bn_1/moving_mean', 'bn_1/moving_variance']);
    // Channels with means 3, −1, 10 and spreads 1, 2, 5, far from the initial moving stats (0, 1).
    const x = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([16, 4, 5, 3], 0, 1, 'float32', 4), [1, 2, 5]), [3, -1, 10]));
    const moments: BatchMoments[] = [];
    const y = forward(m, tf.reshape(x, [16, 60]), { training: { seed: 1, step: 1, moments } });
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    const batch = tf.moments(x, [0, 1, 2]);
    const batchMean = batch.mean.dataSync(),
      batchVariance = batch.variance.dataSync();
    mean.dataSync().forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-5));
    // Var(x̂) = σ²/(σ² + ε) with ε = 0.001 and σ² the batch's (biased) variance.
    variance.dataSync().forEach((v, i) => expect(v).toBeCloseTo(batchVariance[i]! / (batchVariance[i]! + 0.001), 5));
    updateMovingStats(moments);
    // One step at momentum 0.99 from 0: 1 % of the batch mean.
    const moved = weightsOf(m).get('bn_1/moving_mean')!;
    moved.forEach((v, i) => expect(v).toBeCloseTo(0.01 * batchMean[i]!, 6));
    m.dispose();
  });

  it('keeps the batch moments only when asked, and updateMovingStats disposes them', async () => {
    await use(main);
    const m = buildModel(residual(), data.inputShape, 5);
    const x = tf.tensor(data.test.x.subarray(0, 8 * 784), [8, 28, 28]);
    const start = tf.memory().numTensors;
    tf.tidy(() => {
      forward(m, x, { training: { seed: 1, step: 1 } });
    });
    expect(tf.memory().numTensors).toBe(start);
    const moments: BatchMoments[] = [];
    tf.tidy(() => {
      forward(m, x, { training: { seed: 1, step: 1, moments } });
    });
    expect(moments.map((mm) => mm.layer)).toEqual(['bn1', 'bn2']);
    expect(tf.memory().numTensors).toBe(start + 4);
    updateMovingStats(moments);
    expect(tf.memory().numTensors).toBe(start);
    tf.dispose(x);
    m.dispose();
  });
});
