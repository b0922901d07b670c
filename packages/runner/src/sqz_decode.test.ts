import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { currentBackend, selectBackend } from '@squash/backend';
import { writeArtifact } from '@squash/compressors';
import { loadDataset, type Split } from '@squash/datasets';
import { decodeSqz, loadSqz, SqzError } from '@squash/sqz';
import { SqliteStore, type RunView } from '@squash/store';
import { forward, getWeights, loadArtifactModel } from '@squash/trainer';
import { tempDir } from './__tests__/fixtures.js';
import { runExperiment } from './execute.js';
import { parseSpec } from './spec/parse.js';

const RESIDUAL_CNN = join(dirname(fileURLToPath(import.meta.url)), '../../../experiments/models/residual-cnn');
const SAMPLES = { train: 320, test: 250 };
/** The batch the runner evaluates in: the decoded model predicts in the same batches. */
const BATCH = 1000;

/** Runs an experiment on the native backend (depthwise convolutions train there) in a temp dir. */
async function runTrials(yaml: string, dir = tempDir()): Promise<RunView[]> {
  const { experiment, errors } = parseSpec(yaml, join(dir, 'exp.yaml'));
  expect(errors.map((e) => e.describe())).toEqual([]);
  const store = SqliteStore.open(join(dir, 'db.sqlite'));
  const summary = await runExperiment(experiment!, { store, cacheDir: join(dir, 'cache'), backend: 'native' });
  const runs = store.listRuns(experiment!.name);
  store.close();
  expect(runs.filter((r) => r.status !== 'FINISHED').map((r) => r.error)).toEqual([]);
  expect(summary.failed).toBe(0);
  return runs.filter((r) => !r.isBaseline);
}

/** `model.predict` over a split in the runner's batches: the class probabilities, and the accuracy. */
function predictSplit(model: tf.LayersModel, data: Split, inputShape: number[]) {
  const per = data.x.length / data.count;
  const probs: Float32Array[] = [];
  let correct = 0;
  for (let start = 0; start < data.count; start += BATCH) {
    const n = Math.min(BATCH, data.count - start);
    tf.tidy(() => {
      const x = tf.tensor(data.x.subarray(start * per, (start + n) * per), [n, ...inputShape]);
      const p = model.predict(x, { batchSize: BATCH }) as tf.Tensor;
      probs.push(p.dataSync() as Float32Array);
      const predicted = p.argMax(-1).dataSync();
      for (let i = 0; i < n; i++) if (predicted[i] === data.y[start + i]) correct++;
    });
  }
  return { probs, accuracy: correct / data.count };
}

/**
 * Decodes each trial's artifact with @squash/sqz alone and checks `model.predict` against what the
 * run recorded: the same accuracy, and — stronger — the very probabilities the trainer's forward
 * pass (with its activation hook) computes from the same file.
 */
function expectDecodedAsRecorded(trials: RunView[], test: Split): Map<string, tf.LayersModel> {
  const decoded = new Map<string, tf.LayersModel>();
  for (const trial of trials) {
    expect(trial.backend).toBe(currentBackend()!.name);
    const bytes = readFileSync(trial.artifacts.model!.path);
    const { model, info } = decodeSqz(bytes);
    const { probs, accuracy } = predictSplit(model, test, info.inputShape);
    expect({ trial: trial.sweep, accuracy }).toEqual({ trial: trial.sweep, accuracy: trial.metrics.accuracy });

    const reference = loadArtifactModel(trial.artifacts.model!.path);
    const per = test.x.length / test.count;
    probs.forEach((p, b) => {
      const n = p.length / 10;
      const x = tf.tensor(test.x.subarray(b * BATCH * per, (b * BATCH + n) * per), [n, ...info.inputShape]);
      const want = forward(reference.model, x, { activationHook: reference.activationHook });
      expect(p).toEqual(want.dataSync());
      tf.dispose([x, want]);
    });
    // The weights are the file's, under the trainer's names.
    expect(getWeights(model).map((w) => [w.name, w.shape])).toEqual(
      getWeights(reference.model).map((w) => [w.name, w.shape]),
    );
    reference.model.dispose();
    decoded.set(trial.sweep!, model);
  }
  return decoded;
}

const fakeQuantLayers = (model: tf.LayersModel) =>
  model.layers.filter((l) => l.getClassName() === 'SquashFakeQuant').map((l) => l.name);
const m = (r: RunView, key: string) => r.metrics[key]!;

let test: Split;

beforeAll(async () => {
  await selectBackend({ prefer: 'native' });
  test = (await loadDataset({ name: 'synthetic', samples: SAMPLES })).test;
});

describe('decodeSqz on the artifacts real runs write', () => {
  it('dense, pruned (sparse), k-means + Huffman, per-channel and activation-quantized MLPs', async () => {
    const trials = await runTrials(`name: sqz-mlp
model:
  name: mlp
  layers:
    - { type: flatten }
    - { type: dense, units: 24, activation: relu }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
dataset: { name: synthetic, samples: { train: ${SAMPLES.train}, test: ${SAMPLES.test} } }
train: { epochs: 2, batchSize: 32, learningRate: 0.01 }
sweeps:
  - name: dense
    stages:
      - finetune: { epochs: 1 }
  - name: sparse
    stages:
      - prune-weights: { retention: 0.2 }
  - name: kmeans-huffman
    stages:
      - prune-weights: { retention: 0.5 }
      - quantize-weights: { scheme: kmeans, bits: 4 }
      - huffman: {}
  - name: channel
    stages:
      - quantize-weights: { bits: 3, granularity: channel }
  - name: activations
    stages:
      - quantize-weights: { bits: 8 }
      - quantize-activations: { bits: 3 }
`);
    expect(trials.map((t) => t.sweep)).toEqual(['dense', 'sparse', 'kmeans-huffman', 'channel', 'activations']);
    const [dense, sparse, kmeans, channel, acts] = trials as [RunView, RunView, RunView, RunView, RunView];
    expect(m(dense, 'accuracy')).toBeGreaterThan(0.5);
    expect(m(sparse, 'layer.dense_1/kernel.kept')).toBeLessThanOrEqual(Math.round(0.2 * 784 * 24));
    expect(m(kmeans, 'layer.dense_1/kernel.bits')).toBe(4);
    expect(m(channel, 'layer.dense_1/kernel.bits')).toBe(3);
    expect(m(acts, 'activation_bits')).toBe(3);

    const decoded = expectDecodedAsRecorded(trials, test);
    // Activation quantization is in the model itself, after each hidden layer; the others have none.
    expect(fakeQuantLayers(decoded.get('activations')!)).toEqual(['dense_1_fakequant', 'dense_2_fakequant']);
    expect(fakeQuantLayers(decoded.get('kmeans-huffman')!)).toEqual([]);
    const kernel = decoded.get('kmeans-huffman')!.getLayer('dense_1').getWeights()[0]!.dataSync();
    expect(new Set(kernel).size).toBeLessThanOrEqual(2 ** 4 + 1);
    expect(kernel.filter((v) => v !== 0).length).toBe(m(kmeans, 'layer.dense_1/kernel.kept'));
  }, 60_000);

  it('a conv net: filters removed (structured), and per-channel weights with quantized activations', async () => {
    const trials = await runTrials(`name: sqz-conv
model:
  name: tiny-conv
  layers:
    - { type: conv2d, filters: 4, kernelSize: 3, activation: relu }
    - { type: conv2d, filters: 6, kernelSize: [3, 3], padding: same }
    - { type: maxPool2d, poolSize: 2 }
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
dataset: { name: synthetic, samples: { train: ${SAMPLES.train}, test: ${SAMPLES.test} } }
train: { epochs: 2, batchSize: 32, learningRate: 0.005 }
sweeps:
  - name: filters
    stages:
      - prune-units: { retention: 0.5 }
      - finetune: { epochs: 1 }
  - name: qat
    stages:
      - quantize-weights: { bits: 4, granularity: channel }
      - quantize-activations: { bits: 5 }
`);
    const decoded = expectDecodedAsRecorded(trials, test);
    const filters = decoded.get('filters')!;
    // The model the file describes is the smaller one: half of conv_1's filters are gone.
    expect(filters.getLayer('conv_1').getWeights()[0]!.shape).toEqual([3, 3, 1, 2]);
    expect(filters.getLayer('reshape_1').getClassName()).toBe('Reshape');
    expect(fakeQuantLayers(decoded.get('qat')!)).toEqual(['conv_1_fakequant', 'conv_2_fakequant', 'dense_1_fakequant']);
  }, 60_000);

  it('a residual graph: folded and unfoldable batch norms, depthwise and separable convolutions, add and concatenate', async () => {
    // stem → bn → relu ─┬→ conv_a → bn → relu → conv_b → bn → add → bn → relu → pool ─┬→ dw → bn → relu ─┬→ concat → dense
    //                   └─────────────────────────────────────────┘                  └→ sep (relu) ─────┘
    const trials = await runTrials(`name: sqz-residual
model:
  name: residual
  layers:
    - { type: conv2d, name: stem, filters: 6, kernelSize: 3, strides: 2, useBias: false }
    - { type: batchNorm, name: stem_bn, momentum: 0.9 }
    - { type: activation, name: stem_relu, activation: relu }
    - { type: conv2d, name: conv_a, filters: 6, kernelSize: 3, padding: same }
    - { type: batchNorm, momentum: 0.9 }
    - { type: activation, activation: relu }
    - { type: conv2d, name: conv_b, filters: 6, kernelSize: 3, padding: same }
    - { type: batchNorm, name: bn_b, momentum: 0.9 }
    - { type: add, name: add, inputs: [bn_b, stem_relu] }
    - { type: batchNorm, name: bn_out, momentum: 0.9 }
    - { type: activation, name: relu_out, activation: relu }
    - { type: maxPool2d, name: pool, poolSize: 2 }
    - { type: depthwiseConv2d, name: dw, kernelSize: 3, padding: same }
    - { type: batchNorm, name: dw_bn, momentum: 0.9 }
    - { type: activation, name: dw_relu, activation: relu }
    - { type: separableConv2d, name: sep, filters: 6, kernelSize: 3, padding: same, activation: relu, inputs: [pool] }
    - { type: concatenate, name: cat, inputs: [dw_relu, sep] }
    - { type: flatten }
    - { type: dense, name: out, units: 10, activation: softmax }
dataset: { name: synthetic, samples: { train: ${SAMPLES.train}, test: ${SAMPLES.test} } }
train: { epochs: 1, batchSize: 32, learningRate: 0.003 }
sweeps:
  - name: compressed
    stages:
      - prune-weights: { retention: 0.5 }
      - quantize-weights: { scheme: kmeans, bits: 5 }
      - quantize-activations: { bits: 6 }
      - huffman: {}
`);
    const model = expectDecodedAsRecorded(trials, test).get('compressed')!;
    expect(model.getClassName()).toBe('Model');
    // The batch norms after convolutions are folded into them; the one after the add cannot be.
    expect(model.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.name)).toEqual([
      'bn_out',
    ]);
    expect(fakeQuantLayers(model).sort()).toEqual([
      'add_fakequant',
      'cat_fakequant',
      'conv_a_fakequant',
      'stem_fakequant',
    ]);
  }, 60_000);

  it('a model read from a TensorFlow.js Layers file (declared input [28, 28, 1]), quantized', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'mine'));
    for (const f of ['model.json', 'weights.bin']) copyFileSync(join(RESIDUAL_CNN, f), join(dir, 'mine', f));
    const trials = await runTrials(
      `name: sqz-file
model: { path: mine/model.json }
dataset: { name: synthetic, samples: { train: ${SAMPLES.train}, test: ${SAMPLES.test} } }
sweeps:
  - name: q8
    stages:
      - quantize-weights: { bits: 6 }
      - quantize-activations: { bits: 8 }
`,
      dir,
    );
    const { model, info } = decodeSqz(readFileSync(trials[0]!.artifacts.model!.path));
    expect(info.spec.inputShape).toEqual([28, 28, 1]);
    expect(model.inputs[0]!.shape).toEqual([null, 28, 28]);
    expect(model.layers[1]!.getClassName()).toBe('Reshape');
    model.dispose();
    expectDecodedAsRecorded(trials, test);
  }, 60_000);
});

describe('decodeSqz on files that do not describe a model it can build', () => {
  const spec = {
    name: 'tiny',
    layers: [{ type: 'flatten' }, { type: 'dense', units: 3 }, { type: 'dense', units: 2 }],
  };
  const float = (name: string, shape: number[]) => ({
    name,
    shape,
    encoding: { kind: 'float32' as const, values: new Float32Array(shape.reduce((a, b) => a * b, 1)) },
  });
  const weights = [float('dense_1/kernel', [4, 3]), float('dense_1/bias', [3]), float('dense_2/kernel', [3, 2])];
  const bias = float('dense_2/bias', [2]);
  const file = (model: unknown, layers = [...weights, bias]) => writeArtifact(model, layers).bytes;
  const info = { format: 'squash-model', spec, inputShape: [2, 2] };

  it('decodes the well-formed one, from a Uint8Array or an ArrayBuffer', () => {
    const bytes = file(info);
    expect(decodeSqz(bytes).model.outputs[0]!.shape).toEqual([null, 2]);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    expect(decodeSqz(buffer).info).toEqual(info);
  });

  it.each([
    [
      'another format',
      { ...info, format: 'other' },
      undefined,
      /header model\.format: expected 'squash-model', found "other"/,
    ],
    ['no model at all', null, undefined, /header model\.format: expected 'squash-model', found undefined/],
    ['a weight missing', info, weights, /no tensor dense_2\/bias, which the model's layer dense_2 needs/],
    [
      'a weight left over',
      info,
      [...weights, bias, { ...bias, name: 'dense_9/bias' }],
      /dense_9\/bias belong to no layer/,
    ],
    ['a weight of another shape', { ...info, inputShape: [3, 2] }, undefined, /header model: cannot build it: .*shape/],
    [
      'an unknown layer type',
      { ...info, spec: { name: 't', layers: [{ type: 'lstm' }] } },
      [],
      /unknown layer type "lstm"/,
    ],
    ['bad activation bits', { ...info, activations: { dense_1: { bits: 0, min: 0, max: 1 } } }, undefined, /bits/],
  ])('%s is an SqzError', (_what, model, layers, message) => {
    const bytes = file(model, layers);
    expect(() => decodeSqz(bytes)).toThrow(SqzError);
    expect(() => decodeSqz(bytes)).toThrow(message);
  });
});

describe('loadSqz', () => {
  const spec = { name: 'tiny', layers: [{ type: 'dense', units: 2 }] };
  const bytes = writeArtifact({ format: 'squash-model', spec, inputShape: [3] }, [
    { name: 'dense_1/kernel', shape: [3, 2], encoding: { kind: 'float32', values: Float32Array.of(1, 2, 3, 4, 5, 6) } },
    { name: 'dense_1/bias', shape: [2], encoding: { kind: 'float32', values: Float32Array.of(0.5, -0.5) } },
  ]).bytes;
  const output = (model: tf.LayersModel) => [...(model.predict(tf.tensor([[1, 0, -1]])) as tf.Tensor).dataSync()];

  it('fetches a URL, and reads a Response, an ArrayBuffer or bytes', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/model.sqz') res.end(bytes);
      else res.writeHead(404, 'Not Found').end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      // [1, 0, −1] · [[1, 2], [3, 4], [5, 6]] + [0.5, −0.5] = [−3.5, −4.5]
      expect(output(await loadSqz(`${url}/model.sqz`))).toEqual([-3.5, -4.5]);
      expect(output(await loadSqz(new URL(`${url}/model.sqz`)))).toEqual([-3.5, -4.5]);
      await expect(loadSqz(`${url}/missing.sqz`)).rejects.toThrow(/missing\.sqz: HTTP 404 Not Found/);
    } finally {
      server.close();
    }
    expect(output(await loadSqz(new Response(bytes)))).toEqual([-3.5, -4.5]);
    expect(output(await loadSqz(bytes.slice().buffer))).toEqual([-3.5, -4.5]);
    expect(output(await loadSqz(bytes))).toEqual([-3.5, -4.5]);
  });
});
