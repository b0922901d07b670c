import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sha256Hex } from '@squash/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, forward, getWeights, setWeights } from '../index.js';
import { readModelFile } from './index.js';
import { oneShard, randomizeWeights, saveStock, tempDir, writeModel } from './__tests__/files.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function sequential(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [9, 9, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.batchNormalization({ epsilon: 0.01 }));
  m.add(tf.layers.reLU({ maxValue: 6 }));
  m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, activation: 'hardSigmoid' }));
  m.add(
    tf.layers.zeroPadding2d({
      padding: [
        [1, 0],
        [0, 1],
      ],
    }),
  );
  m.add(tf.layers.separableConv2d({ filters: 3, kernelSize: 2, strides: [2, 1], activation: 'elu' }));
  m.add(tf.layers.averagePooling2d({ poolSize: [2, 1], strides: 1 }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }));
  m.add(tf.layers.dropout({ rate: 0.3 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 6, activation: 'tanh' }));
  m.add(tf.layers.batchNormalization({ center: false }));
  m.add(tf.layers.dense({ units: 5, useBias: false }));
  m.add(tf.layers.softmax());
  return m;
}

function functional(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  const conv = tf.layers.conv2d({ filters: 3, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization().apply(conv) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([bn, input]) as tf.SymbolicTensor;
  const relu6 = tf.layers.reLU({ maxValue: 6 }).apply(sum) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([relu6, input]) as tf.SymbolicTensor;
  const padded = tf.layers.zeroPadding2d({ padding: 1 }).apply(joined) as tf.SymbolicTensor;
  const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, activation: 'relu' }).apply(padded) as tf.SymbolicTensor;
  const sep = tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(dw);
  const act = tf.layers.activation({ activation: 'swish' }).apply(sep) as tf.SymbolicTensor;
  const branch = tf.layers.globalMaxPooling2d({}).apply(act) as tf.SymbolicTensor;
  const other = tf.layers.globalAveragePooling2d({}).apply(act) as tf.SymbolicTensor;
  const both = tf.layers.concatenate({ axis: 1 }).apply([branch, other]) as tf.SymbolicTensor;
  const dropped = tf.layers.dropout({ rate: 0.5 }).apply(both) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, activation: 'softmax' }).apply(dropped) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Saves `stock` with tfjs, reads it back, and checks our model computes what tfjs' does. */
async function roundTrip(stock: tf.LayersModel, seed: number) {
  randomizeWeights(stock, seed);
  const dir = tempDir();
  const { json, shards } = oneShard(await saveStock(stock));
  const path = writeModel(dir, json, shards);
  const file = readModelFile(path);
  const inputShape = file.spec.inputShape!;
  const ours = buildModel(file.spec, inputShape, 0);
  setWeights(ours, file.weights);
  const x = tf.randomNormal([3, ...inputShape], 0, 1, 'float32', seed);
  const expected = stock.predict(x) as tf.Tensor;
  const actual = forward(ours, x);
  expect(actual.shape).toEqual(expected.shape);
  const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!;
  return { file, dir, path, diff, stockWeights: getWeights(stock) };
}

describe('models saved by stock TensorFlow.js', () => {
  it('reads a sequential model with the same outputs', async () => {
    const { file, diff, stockWeights, dir, path } = await roundTrip(sequential(), 1);
    expect(diff).toBeLessThan(1e-5);
    expect(file.spec.inputShape).toEqual([9, 9, 2]);
    expect(file.spec.layers.map((l) => l.type)).toEqual([
      'conv2d',
      'batchNorm',
      'activation',
      'depthwiseConv2d',
      'zeroPadding2d',
      'separableConv2d',
      'avgPool2d',
      'maxPool2d',
      'dropout',
      'flatten',
      'dense',
      'batchNorm',
      'dense',
      'activation',
    ]);
    expect(file.spec.layers[2]).toMatchObject({ type: 'activation', activation: 'relu6' });
    expect(file.spec.layers[3]).toMatchObject({ depthMultiplier: 2, activation: 'hardSigmoid' });
    expect(file.spec.layers[4]).toMatchObject({
      pad: [
        [1, 0],
        [0, 1],
      ],
    });
    expect(file.spec.layers[1]).toMatchObject({ epsilon: 0.01 });
    // Weights: the same names and values tfjs holds, every one float32-exact.
    const byName = new Map(stockWeights.map((w) => [w.name, w]));
    expect(file.weights.map((w) => w.name).sort()).toEqual([...byName.keys()].sort());
    for (const w of file.weights) {
      expect(w.shape).toEqual(byName.get(w.name)!.shape);
      expect(Array.from(w.values)).toEqual(Array.from(byName.get(w.name)!.values));
    }
    // Files: names relative to model.json, sizes, hashes; the content hash ignores where the files are.
    expect(file.path).toBe(path);
    expect(file.files.map((f) => f.name)).toEqual(['model.json', 'weights.bin']);
    const bin = readFileSync(join(dir, 'weights.bin'));
    expect(file.files[1]).toEqual({ name: 'weights.bin', bytes: bin.length, sha256: sha256Hex(bin) });
    const moved = tempDir();
    cpSync(dir, moved, { recursive: true });
    const again = readModelFile(moved, { shownAs: 'elsewhere' });
    expect(again.path).toBe(join(moved, 'model.json'));
    expect(again.sha256).toBe(file.sha256);
  });

  it('reads a functional model (add, concatenate, two pooled branches) with the same outputs', async () => {
    const { file, diff } = await roundTrip(functional(), 2);
    expect(diff).toBeLessThan(1e-5);
    const add = file.spec.layers.find((l) => l.type === 'add')!;
    expect(add.inputs).toHaveLength(2);
    expect(add.inputs).toContain('input');
    const concats = file.spec.layers.filter((l) => l.type === 'concatenate');
    expect(concats.map((l) => l.inputs!.length)).toEqual([2, 2]);
    expect(file.spec.layers.at(-1)).toMatchObject({ type: 'dense', units: 4, activation: 'softmax' });
  });

  it('changes its content hash when a weight changes', async () => {
    const { file, dir } = await roundTrip(sequential(), 3);
    const bin = readFileSync(join(dir, 'weights.bin'));
    bin[0] = bin[0]! ^ 1;
    writeModel(dir, JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')), { 'weights.bin': bin });
    expect(readModelFile(join(dir, 'model.json')).sha256).not.toBe(file.sha256);
  });
});
