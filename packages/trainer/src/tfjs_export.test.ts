import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@squash/backend';
import { float16Bits, float16Value, quantizeTensor } from '@squash/compressors';
import { loadDataset, type Dataset } from '@squash/datasets';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  evaluate,
  getWeights,
  loadTfjsFiles,
  predictAccuracy,
  setWeights,
  SHARD_BYTES,
  tfjsModelFiles,
  train,
  type ModelSpec,
} from './index.js';

let data: Dataset;
beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  data = await loadDataset({ name: 'mnist', limits: { train: 600, test: 300 } });
});

const mlp: ModelSpec = {
  name: 'mlp',
  layers: [
    { type: 'flatten' },
    { type: 'dense', units: 24, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

/** A trained MLP whose kernels are 6-bit symmetric codebooks with half the weights pruned to 0. */
async function quantizedMlp(): Promise<tf.LayersModel> {
  const m = buildModel(mlp, data.inputShape, 1);
  await train(m, data.train, { epochs: 2, batchSize: 32, learningRate: 0.01, seed: 1 });
  setWeights(
    m,
    getWeights(m).map((w) => {
      if (!w.name.endsWith('/kernel')) return w;
      const mask = Uint8Array.from(w.values, (_, i) => (i % 2 ? 1 : 0));
      const q = quantizeTensor(w.values, w.shape, { scheme: 'symmetric', bits: 6, channelAxis: null, mask });
      return { ...w, values: Float32Array.from(q.codes, (c) => q.codebook[c]!) };
    }),
  );
  return m;
}

const weightsOf = (m: tf.LayersModel) => new Map(getWeights(m).map((w) => [w.name, w.values]));

describe('tfjsModelFiles', () => {
  it('writes the converter layout: model.json with topology, manifest and quantization, one shard', async () => {
    const m = await quantizedMlp();
    const out = await tfjsModelFiles(m, 'tfjs-uint8');
    expect(out.files.map((f) => f.name)).toEqual(['model.json', 'group1-shard1of1.bin']);
    const json = JSON.parse(new TextDecoder().decode(out.files[0]!.bytes));
    expect(Object.keys(json)).toEqual(['format', 'generatedBy', 'convertedBy', 'modelTopology', 'weightsManifest']);
    expect(json.format).toBe('layers-model');
    expect(json.generatedBy).toMatch(/^TensorFlow\.js tfjs-layers v4\.22\.0$/);
    expect(json.convertedBy).toMatch(/^squash \d+\.\d+\.\d+/);
    expect(json.modelTopology.config.layers.map((l: { config: { name: string } }) => l.config.name)).toEqual([
      'flatten_1',
      'dense_1',
      'dense_2',
    ]);
    const weights = json.weightsManifest[0].weights;
    expect(json.weightsManifest[0].paths).toEqual(['group1-shard1of1.bin']);
    expect(weights.map((w: { name: string; shape: number[] }) => `${w.name} ${w.shape}`)).toEqual([
      'dense_1/kernel 784,24',
      'dense_1/bias 24',
      'dense_2/kernel 24,10',
      'dense_2/bias 10',
    ]);
    for (const w of weights) expect(w.quantization).toMatchObject({ dtype: 'uint8', original_dtype: 'float32' });
    // One byte per weight.
    expect(out.files[1]!.bytes.length).toBe(784 * 24 + 24 + 24 * 10 + 10);
    // The 6-bit kernels lie on a grid: exact. The biases are plain floats: not.
    expect(out.tensors.map((t) => [t.name, t.dtype, t.exact])).toEqual([
      ['dense_1/kernel', 'uint8', true],
      ['dense_1/bias', 'uint8', false],
      ['dense_2/kernel', 'uint8', true],
      ['dense_2/bias', 'uint8', false],
    ]);
  });

  it('stock tfjs loads every format back: exact tensors bit for bit, the others within the stated error', async () => {
    const m = await quantizedMlp();
    const original = weightsOf(m);
    for (const format of ['tfjs', 'tfjs-uint8', 'tfjs-uint16', 'tfjs-float16'] as const) {
      const out = await tfjsModelFiles(m, format);
      const loaded = await loadTfjsFiles(out.files);
      const back = weightsOf(loaded);
      for (const t of out.tensors) {
        const a = original.get(t.name)!;
        const b = back.get(t.name)!;
        let err = 0;
        for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
        expect(err, `${format} ${t.name}`).toBe(t.maxAbsError);
        if (t.exact) expect(b, `${format} ${t.name}`).toEqual(a);
        if (format === 'tfjs-float16') expect(b, t.name).toEqual(a.map((v) => float16Value(float16Bits(v))));
      }
      if (format === 'tfjs') expect(out.tensors.every((t) => t.exact)).toBe(true);
      // Exact everywhere: the same predictions as the model written.
      const acc = predictAccuracy(loaded, data.test);
      if (out.tensors.every((t) => t.exact)) expect(acc, format).toBe(predictAccuracy(m, data.test));
      else expect(Math.abs(acc - predictAccuracy(m, data.test)), format).toBeLessThan(0.05);
      loaded.dispose();
    }
  });

  it("predict's accuracy is evaluate's", async () => {
    const m = await quantizedMlp();
    expect(predictAccuracy(m, data.test, 64)).toBe(evaluate(m, data.test).accuracy);
  });

  it('splits weights over 4 MB into shards as the converter does, and loads them back', async () => {
    const big = buildModel(
      { name: 'big', layers: [{ type: 'flatten' }, { type: 'dense', units: 1400, useBias: false }] },
      [28, 28],
      1,
    );
    const out = await tfjsModelFiles(big, 'tfjs');
    const total = 4 * 784 * 1400;
    expect(out.files.map((f) => [f.name, f.bytes.length])).toEqual([
      ['model.json', out.files[0]!.bytes.length],
      ['group1-shard1of2.bin', SHARD_BYTES],
      ['group1-shard2of2.bin', total - SHARD_BYTES],
    ]);
    const loaded = await loadTfjsFiles(out.files);
    expect(weightsOf(loaded).get('dense_1/kernel')).toEqual(weightsOf(big).get('dense_1/kernel'));
    loaded.dispose();
    // In uint8 the same weights fit in one shard.
    expect((await tfjsModelFiles(big, 'tfjs-uint8')).files.map((f) => f.name)).toEqual([
      'model.json',
      'group1-shard1of1.bin',
    ]);
  });

  it('writes graph models (residual add, conv, depthwise, pooling) that stock tfjs loads', async () => {
    const spec: ModelSpec = {
      name: 'res',
      layers: [
        { type: 'conv2d', name: 'stem', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'depthwiseConv2d', name: 'dw', kernelSize: 3, padding: 'same' },
        { type: 'add', name: 'sum', inputs: ['stem', 'dw'] },
        { type: 'globalAvgPool2d' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    };
    const m = buildModel(spec, [28, 28, 1], 2);
    const out = await tfjsModelFiles(m, 'tfjs-float16');
    const loaded = await loadTfjsFiles(out.files);
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(m.layers.map((l) => l.getClassName()));
    const x = tf.tensor(data.test.x.subarray(0, 20 * 784), [20, 28, 28, 1]);
    const diff = tf.max(tf.abs(tf.sub(m.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-2);
    tf.dispose(x);
    loaded.dispose();
  });

  it('refuses a format it does not know', async () => {
    const m = buildModel(mlp, data.inputShape, 1);
    await expect(tfjsModelFiles(m, 'tfjs-int4' as 'tfjs')).rejects.toThrow(/format must be one of tfjs, tfjs-uint8/);
  });
});
