import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '@squash/store';
import { loadDataset } from '@squash/datasets';
import { loadArtifactModel, evaluate } from '@squash/trainer';
import { selectBackend } from '@squash/backend';
import { parseSpec } from './spec/parse.js';
import { runExperiment } from './execute.js';
import { planTrials } from './plan.js';
import { tempDir } from './__tests__/fixtures.js';

const SAMPLES = { train: 600, test: 200 };

/** A small residual CNN made, trained and saved by stock tfjs (model.fit, model.save), as a user would. */
async function stockModel(dir: string): Promise<tf.LayersModel> {
  const input = tf.input({ shape: [28, 28, 1], name: 'image' });
  const stem = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, useBias: false, name: 'stem' }).apply(input);
  const bn = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(stem);
  const a = tf.layers.reLU({ maxValue: 6, name: 'stem_relu' }).apply(bn) as tf.SymbolicTensor;
  const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'block_conv' }).apply(a);
  const sum = tf.layers.add({ name: 'block_add' }).apply([a, c1 as tf.SymbolicTensor]);
  const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, name: 'dw', activation: 'relu' }).apply(sum);
  const flat = tf.layers.flatten({ name: 'flat' }).apply(tf.layers.dropout({ rate: 0.2, name: 'drop' }).apply(dw));
  const out = tf.layers.dense({ units: 10, activation: 'softmax', name: 'head' }).apply(flat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const data = await loadDataset({ name: 'synthetic', samples: SAMPLES });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = tf.tensor(data.train.x, [data.train.count, 28, 28, 1]);
  const y = tf.tensor(Float32Array.from(data.train.y), [data.train.count]);
  await model.fit(x, y, { epochs: 2, batchSize: 32, verbose: 0 });
  tf.dispose([x, y]);
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(join(dir, 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          modelTopology: a.modelTopology,
          format: 'layers-model',
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return model;
}

const experiment = (extra = '') => `name: from-file
model: { path: mine/model.json }
dataset: { name: synthetic, samples: { train: ${SAMPLES.train}, test: ${SAMPLES.test} } }
${extra}sweeps:
  - name: compress
    stages:
      - prune-weights: { retention: 0.5 }
      - quantize-weights: { scheme: kmeans, bits: 4 }
      - finetune: { epochs: 1 }
      - quantize-activations: { bits: 8 }
      - huffman: {}
`;

async function run(dir: string, text: string) {
  const { experiment: exp, errors } = parseSpec(text, join(dir, 'exp.yaml'));
  expect(errors.map((e) => e.describe())).toEqual([]);
  const store = SqliteStore.open(join(dir, 'squash.db'));
  const summary = await runExperiment(exp!, { store, cacheDir: join(dir, 'cache'), backend: 'native' });
  const runs = store.listRuns(exp!.name);
  store.close();
  return { exp: exp!, summary, runs };
}

describe('a model from a TensorFlow.js Layers file', () => {
  it('is the baseline as saved: Squash records what stock tfjs model.evaluate reports, and compresses it', async () => {
    await selectBackend({ prefer: 'native' });
    const dir = tempDir();
    const stock = await stockModel(join(dir, 'mine'));
    const data = await loadDataset({ name: 'synthetic', samples: SAMPLES });
    const xt = tf.tensor(data.test.x, [data.test.count, 28, 28, 1]);
    const yt = tf.oneHot(tf.tensor1d(Int32Array.from(data.test.y), 'int32'), 10);
    stock.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const [, acc] = stock.evaluate(xt, yt, { batchSize: 1000 }) as tf.Scalar[];
    const stockAccuracy = acc!.dataSync()[0]!;

    const { summary, runs } = await run(dir, experiment());
    expect(summary.failed).toBe(0);
    const baseline = runs.find((r) => r.isBaseline)!;
    expect(baseline.metrics.accuracy).toBeCloseTo(stockAccuracy, 6);
    expect(baseline.params.epochs).toBe(0);
    expect(baseline.params.model_file).toBe('mine/model.json');
    const trial = runs.find((r) => !r.isBaseline)!;
    expect(trial.status).toBe('FINISHED');
    // Centroid fine-tuning with fake-quantized activations runs as the compiled plan on native.
    expect(trial.params.training_path).toBe(trial.backend === 'native' ? 'native-plan' : 'tfjs-autograd');
    expect(trial.metrics.artifact_accuracy).toBe(trial.metrics.accuracy);
    const reloaded = loadArtifactModel(trial.artifacts.model!.path);
    expect(evaluate(reloaded.model, data.test, { activationHook: reloaded.activationHook }).accuracy).toBe(
      trial.metrics.accuracy,
    );

    // Editing the file reruns: its content is part of every id.
    const before = planTrials(parseSpec(experiment(), join(dir, 'exp.yaml')).experiment!);
    const bin = readFileSync(join(dir, 'mine', 'weights.bin'));
    bin[0]! ^= 1;
    writeFileSync(join(dir, 'mine', 'weights.bin'), bin);
    const after = planTrials(parseSpec(experiment(), join(dir, 'exp.yaml')).experiment!);
    expect(after[0]!.baselineId).not.toBe(before[0]!.baselineId);
    expect(after[0]!.id).not.toBe(before[0]!.id);
    tf.dispose([xt, yt]);
  }, 120_000);

  it('a broken or missing file is an error at the experiment’s path key, naming the model file', () => {
    const dir = tempDir();
    const { errors } = parseSpec(experiment(), join(dir, 'exp.yaml'));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.exitCode).toBe(2);
    expect(errors[0]!.describe()).toMatch(/exp\.yaml:2:\d+: model\.path: model file mine\/model\.json: /);
    mkdirSync(join(dir, 'mine'));
    writeFileSync(join(dir, 'mine', 'model.json'), '{ not json');
    expect(parseSpec(experiment(), join(dir, 'exp.yaml')).errors[0]!.describe()).toMatch(
      /model\.path: model file mine\/model\.json: .*JSON/,
    );
  });

  it('init: random needs train.epochs', () => {
    const text = experiment().replace('{ path: mine/model.json }', '{ path: mine/model.json, init: random }');
    const { errors } = parseSpec(text, join(tempDir(), 'exp.yaml'));
    expect(errors.map((e) => e.describe())).toEqual([
      expect.stringMatching(/model\.init: init: random starts from fresh weights/),
    ]);
  });
});
