import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@squash/core';
import { selectBackend } from '@squash/backend';
import { loadDataset, type Dataset } from '@squash/datasets';
import {
  buildModel,
  collectActivations,
  evaluate,
  forward,
  getWeights,
  loadModel,
  modelRegistry,
  resolveModelSpec,
  saveModel,
  setWeights,
  splitValidation,
  train,
  type ModelSpec,
} from './index.js';

let data: Dataset;
const tiny = {
  name: 'tiny',
  layers: [
    { type: 'flatten' as const },
    { type: 'dense' as const, units: 16, activation: 'relu' as const },
    { type: 'dense' as const, units: 10, activation: 'softmax' as const },
  ],
};
const params = (m: tf.LayersModel) => m.countParams();

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  data = await loadDataset({ name: 'synthetic', samples: { train: 600, test: 200 } });
});

describe('models', () => {
  it('builds the article network and LeNet-300-100 with the published parameter counts', () => {
    const article = buildModel(modelRegistry.get('article-mlp'), [28, 28], 1);
    expect(params(article)).toBe(784 * 128 + 128 + 128 * 10 + 10); // 101,770
    expect(article.layers.map((l) => l.name)).toEqual(['flatten_1', 'dense_1', 'dense_2']);
    const lenet = buildModel(resolveModelSpec('lenet-300-100'), [28, 28], 1);
    expect(params(lenet)).toBe(266_610);
    expect(getWeights(lenet).map((w) => w.name)).toEqual([
      'dense_1/kernel',
      'dense_1/bias',
      'dense_2/kernel',
      'dense_2/bias',
      'dense_3/kernel',
      'dense_3/bias',
    ]);
  });
  it('initialises identically for the same seed and differently for another', () => {
    const a = getWeights(buildModel(tiny, [28, 28], 5))[0]!.values;
    const b = getWeights(buildModel(tiny, [28, 28], 5))[0]!.values;
    const c = getWeights(buildModel(tiny, [28, 28], 6))[0]!.values;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
  it('rejects unknown models and bad layers with the path', () => {
    expect(() => resolveModelSpec('vgg')).toThrow(/unknown model 'vgg'; known: article-mlp, lenet-300-100/);
    expect(() => resolveModelSpec({ name: 'x', layers: [{ type: 'dense', units: 0 }] })).toThrow(ConfigError);
    try {
      resolveModelSpec({ name: 'x', layers: [{ type: 'flatten' }, { type: 'conv' } as never] });
    } catch (e) {
      expect((e as ConfigError).location?.path).toBe('model.layers[1]');
    }
  });
});

describe('train and evaluate', () => {
  it('learns the synthetic task, deterministically per seed', async () => {
    const run = async (seed: number) => {
      const m = buildModel(tiny, data.inputShape, seed);
      const logs = await train(m, data.train, { epochs: 4, batchSize: 32, learningRate: 0.002, seed });
      return { m, logs, ev: evaluate(m, data.test) };
    };
    const a = await run(1);
    const b = await run(1);
    const c = await run(2);
    expect(a.logs).toHaveLength(4);
    expect(a.logs[3]!.loss).toBeLessThan(a.logs[0]!.loss);
    expect(a.ev.accuracy).toBeGreaterThan(0.8);
    expect(b.ev).toEqual(a.ev);
    expect(Array.from(getWeights(b.m)[0]!.values)).toEqual(Array.from(getWeights(a.m)[0]!.values));
    expect(Array.from(getWeights(c.m)[0]!.values)).not.toEqual(Array.from(getWeights(a.m)[0]!.values));
  });

  it('evaluates accuracy and loss exactly as argmax and mean cross-entropy', async () => {
    const m = buildModel(tiny, data.inputShape, 3);
    const ev = evaluate(m, data.test, { batchSize: 64 }); // 200 = 3 full batches + 8
    const probs = (m.predict(tf.tensor(data.test.x, [data.test.count, 28, 28])) as tf.Tensor).arraySync() as number[][];
    let hits = 0,
      nll = 0;
    probs.forEach((p, i) => {
      const y = data.test.y[i]!;
      if (p.indexOf(Math.max(...p)) === y) hits++;
      nll -= Math.log(Math.min(Math.max(p[y]!, 1e-7), 1 - 1e-7));
    });
    expect(ev.accuracy).toBeCloseTo(hits / 200, 10);
    expect(ev.loss).toBeCloseTo(nll / 200, 4);
  });

  it('reports validation metrics from the held-out end of the training split', async () => {
    const { train: t, validation } = splitValidation(data.train, 0.25);
    expect(t.count).toBe(450);
    expect(validation!.count).toBe(150);
    expect(validation!.y[0]).toBe(data.train.y[450]);
    const m = buildModel(tiny, data.inputShape, 1);
    const logs = await train(m, data.train, {
      epochs: 1,
      batchSize: 50,
      learningRate: 0.01,
      seed: 1,
      validationSplit: 0.25,
    });
    expect(logs[0]!.valAccuracy).toBeGreaterThan(0);
    expect(logs[0]!.samplesPerSecond).toBeGreaterThan(0);
  });

  it('lets a hook see and change hidden activations only', () => {
    const m = buildModel(tiny, data.inputShape, 1);
    const seen: string[] = [];
    const zeroed = evaluate(m, data.test, {
      activationHook: (_i, name, output) => {
        seen.push(name);
        return tf.zerosLike(output);
      },
    });
    expect(new Set(seen)).toEqual(new Set(['dense_1']));
    // With every hidden unit zeroed the output is softmax(bias) = uniform: loss = ln 10.
    expect(zeroed.loss).toBeCloseTo(Math.log(10), 4);
    const acts = collectActivations(m, data.test, 100);
    expect(acts.get('dense_1')!.reduce((n, a) => n + a.length, 0)).toBe(200 * 16);
  });
});

describe('forward', () => {
  it('computes exactly what predict does, and hooks every weighted layer but the last', () => {
    // A dense layer on a [28, 28] image (tfjs-layers reshapes it to rows), activations tf.layers does not fuse.
    const odd: ModelSpec = {
      name: 'odd',
      layers: [
        { type: 'dense', units: 8, activation: 'tanh' },
        { type: 'flatten' },
        { type: 'dense', units: 12, activation: 'sigmoid' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    };
    const m = buildModel(odd, data.inputShape, 2);
    const x = tf.tensor(data.test.x.subarray(0, 20 * 784), [20, 28, 28]);
    expect(Array.from(forward(m, x).dataSync())).toEqual(Array.from((m.predict(x) as tf.Tensor).dataSync()));
    const seen: string[] = [];
    forward(m, x, { activationHook: (_i, name, output) => (seen.push(name), output) });
    expect(seen).toEqual(['dense_1', 'dense_2']);
  });
});

describe('weights and files', () => {
  it('sets weights by name and round-trips a model through model.json + weights.bin', async () => {
    const m = buildModel(tiny, data.inputShape, 1);
    const w = getWeights(m);
    w[0]!.values.fill(0.01);
    setWeights(m, [w[0]!]);
    expect(getWeights(m)[0]!.values[5]).toBeCloseTo(0.01, 7);
    expect(() => setWeights(m, [{ name: 'nope/kernel', shape: [1], values: new Float32Array(1) }])).toThrow(
      /no such weights/,
    );
    expect(() => setWeights(m, [{ ...w[0]!, shape: [1, 1] }])).toThrow(/has shape 1×1, model expects 784×16/);

    const dir = join(mkdtempSync(join(tmpdir(), 'squash-trainer-')), 'model');
    await saveModel(m, dir);
    expect(existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'weights.bin'))).toBe(true);
    const back = await loadModel(dir);
    expect(evaluate(back, data.test)).toEqual(evaluate(m, data.test));
    expect(getWeights(back).map((t) => t.name)).toEqual(getWeights(m).map((t) => t.name));
  });
});
