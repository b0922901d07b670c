import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from './index.js';
import { oneShard, randomizeWeights, saveStock, tempDir, writeModel } from './__tests__/files.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function model(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 4 }));
  randomizeWeights(m, 7);
  return m;
}

describe('weight shards', () => {
  it('reads weights split into three shards across two manifest groups', async () => {
    const saved = await saveStock(model());
    const single = tempDir();
    const reference = readModelFile(writeModel(single, oneShard(saved).json, oneShard(saved).shards));

    // Group 1: the first three weights, cut into two shards in the middle of a float; group 2: the rest, in a subfolder.
    const bytes = (w: tf.io.WeightsManifestEntry) => 4 * w.shape.reduce((a, b) => a * b, 1);
    const first = saved.weightSpecs.slice(0, 3);
    const rest = saved.weightSpecs.slice(3);
    const cut = first.reduce((n, w) => n + bytes(w), 0);
    const data = saved.weightData;
    const dir = tempDir();
    mkdirSync(join(dir, 'more'));
    const path = writeModel(
      dir,
      {
        modelTopology: saved.modelTopology,
        weightsManifest: [
          { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: first },
          { paths: ['more/group2-shard1of1.bin'], weights: rest },
        ],
      },
      {
        'group1-shard1of2.bin': data.slice(0, 42),
        'group1-shard2of2.bin': data.slice(42, cut),
        'more/group2-shard1of1.bin': data.slice(cut),
      },
    );
    const file = readModelFile(path);
    expect(file.weights).toEqual(reference.weights);
    expect(file.files.map((f) => [f.name, f.bytes])).toEqual([
      ['model.json', expect.any(Number)],
      ['group1-shard1of2.bin', 42],
      ['group1-shard2of2.bin', cut - 42],
      ['more/group2-shard1of1.bin', data.length - cut],
    ]);
    expect(file.sha256).not.toBe(reference.sha256);
  });

  it('dequantizes uint8, uint16 and float16 weights and converts int32 as tfjs does', () => {
    const weights: tf.io.WeightsManifestEntry[] = [
      { name: 'a/kernel', shape: [3, 2], dtype: 'float32', quantization: { dtype: 'uint8', min: -1, scale: 0.01 } },
      { name: 'a/bias', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'b/kernel', shape: [2, 2], dtype: 'int32' },
      { name: 'b/bias', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', min: 0.5, scale: 0.001 } },
    ];
    const data = new Uint8Array(6 + 4 + 16 + 4);
    data.set([0, 50, 100, 150, 200, 255], 0);
    // Little-endian, packed: float16 1.5 (0x3e00) and -2 (0xc000), an int32 block at an unaligned offset, uint16s.
    const view = new DataView(data.buffer);
    view.setUint16(6, 0x3e00, true);
    view.setUint16(8, 0xc000, true);
    [-3, 0, 7, 1].forEach((v, i) => view.setInt32(10 + 4 * i, v, true));
    view.setUint16(26, 1000, true);
    view.setUint16(28, 65535, true);
    const topology = {
      class_name: 'Sequential',
      config: {
        name: 'q',
        layers: [
          { class_name: 'InputLayer', config: { batch_input_shape: [null, 3], name: 'in' } },
          { class_name: 'Dense', config: { name: 'a', units: 2 } },
          { class_name: 'Dense', config: { name: 'b', units: 2 } },
        ],
      },
    };
    const dir = tempDir();
    const file = readModelFile(
      writeModel(dir, { modelTopology: topology, weightsManifest: [{ paths: ['w.bin'], weights }] }, { 'w.bin': data }),
    );
    const stock = tf.io.decodeWeights(data.buffer, weights);
    for (const w of file.weights) expect(Array.from(w.values)).toEqual(Array.from(stock[w.name]!.dataSync()));
    expect(Array.from(file.weights.find((w) => w.name === 'a/bias')!.values)).toEqual([1.5, -2]);
    expect(Array.from(file.weights.find((w) => w.name === 'b/kernel')!.values)).toEqual([-3, 0, 7, 1]);
  });
});
