import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { selectBackend } from '@squash/backend';
import { ACTIVATIONS, type LayerSpec, type ModelSpec } from './layer_spec.js';
import {
  buildModel,
  forward,
  getWeights,
  setWeights,
  sparseCategoricalCrossEntropy,
  updateMovingStats,
  type BatchMoments,
} from './index.js';

// Every layer type in one graph: asymmetric zero padding, conv → batch norm (non-trivial moving
// stats), three branches (depthwise ×2, separable, 1×1 conv) added, dropout, every activation as a
// branch of its own, concatenated, max/avg pools (strided and 'same'), both global pools, a batch
// norm on vectors, concatenate, dense, reshape with −1, flatten, dense softmax.
function everyLayer(withDropout: boolean): ModelSpec {
  const branchFrom = withDropout ? 'drop' : 'add3';
  const acts = ACTIVATIONS.map(
    (a): LayerSpec => ({ type: 'activation', activation: a, name: `a_${a}`, inputs: [branchFrom] }),
  );
  return {
    name: 'every-layer',
    layers: [
      {
        type: 'zeroPadding2d',
        pad: [
          [1, 0],
          [0, 2],
        ],
        name: 'pad',
      },
      { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu', name: 'c1' },
      { type: 'batchNorm', name: 'bn1', momentum: 0.9 },
      { type: 'depthwiseConv2d', kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'elu', name: 'dw' },
      {
        type: 'separableConv2d',
        filters: 8,
        kernelSize: 3,
        padding: 'same',
        activation: 'selu',
        name: 'sep',
        inputs: ['bn1'],
      },
      { type: 'conv2d', filters: 8, kernelSize: 1, name: 'c2', inputs: ['bn1'] },
      { type: 'add', name: 'add3', inputs: ['dw', 'sep', 'c2'] },
      ...(withDropout ? [{ type: 'dropout', rate: 0.3, name: 'drop' } as LayerSpec] : []),
      ...acts,
      { type: 'concatenate', name: 'acts', inputs: acts.map((a) => a.name!) },
      { type: 'maxPool2d', poolSize: 2, strides: 1, name: 'mp' },
      { type: 'avgPool2d', poolSize: 3, strides: 2, padding: 'same', name: 'ap' },
      { type: 'globalAvgPool2d', name: 'gap' },
      { type: 'batchNorm', name: 'bn2', epsilon: 0.01 },
      { type: 'globalMaxPool2d', name: 'gmp', inputs: ['mp'] },
      { type: 'concatenate', name: 'pooled', inputs: ['bn2', 'gmp'] },
      { type: 'dense', units: 12, activation: 'tanh', name: 'd1' },
      { type: 'reshape', targetShape: [3, -1], name: 'r' },
      { type: 'flatten', name: 'f' },
      { type: 'dense', units: 5, activation: 'softmax', name: 'out' },
    ],
  };
}

const INPUT_SHAPE = [8, 8, 3];
const BATCH = 6;

/** The model with random weights everywhere, moving variances in [0.5, 2) and moving means in ±0.5. */
function model(withDropout: boolean, seed = 1): tf.LayersModel {
  const m = buildModel(everyLayer(withDropout), INPUT_SHAPE, 3);
  const rng = createRng(seed);
  setWeights(
    m,
    getWeights(m).map((w) => {
      const role = w.name.split('/')[1]!;
      const draw =
        role === 'moving_variance'
          ? () => 0.5 + 1.5 * rng.next()
          : role === 'gamma'
            ? () => 0.5 + rng.next()
            : role === 'kernel' || role.endsWith('_kernel')
              ? () => 0.4 * rng.normal()
              : () => rng.next() - 0.5;
      return { ...w, values: Float32Array.from(w.values, draw) };
    }),
  );
  return m;
}

function batch(seed = 2): { x: tf.Tensor; y: tf.Tensor1D } {
  const rng = createRng(seed);
  const n = BATCH * INPUT_SHAPE.reduce((a, b) => a * b, 1);
  return {
    x: tf.tensor(
      Float32Array.from({ length: n }, () => rng.normal()),
      [BATCH, ...INPUT_SHAPE],
    ),
    y: tf.tensor1d(
      Int32Array.from({ length: BATCH }, (_, i) => i % 5),
      'int32',
    ),
  };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
};

const trainable = (m: tf.LayersModel) =>
  m.layers.flatMap((l) =>
    l.trainableWeights.map((w) => ({
      name: `${l.name}/${w.originalName.split('/').pop()}`,
      v: w.read() as tf.Variable,
    })),
  );

const movingStats = (m: tf.LayersModel) => getWeights(m).filter((w) => w.name.includes('/moving_'));

const nativeAvailable = await selectBackend({ prefer: 'native' }).then(
  () => true,
  () => false,
);
if (!nativeAvailable) console.warn('native backend unavailable: its layer tests are skipped');

describe.each(['native', 'cpu', 'wasm'] as const)('every layer type on %s', (backend) => {
  const use = async () => {
    await selectBackend({ prefer: backend });
    await tf.setBackend(backend);
    expect(tf.getBackend()).toBe(backend);
  };
  const skip = backend === 'native' && !nativeAvailable;

  it.skipIf(skip)('forward (inference) equals model.predict, dropout and all', async () => {
    await use();
    const m = model(true);
    const { x } = batch();
    const ours = forward(m, x).dataSync();
    const theirs = (m.predict(x) as tf.Tensor).dataSync();
    expect(ours.length).toBe(BATCH * 5);
    expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);
    // Not a model that ignores its input: another batch gives other outputs.
    expect(maxAbsDiff(ours, forward(m, batch(9).x).dataSync())).toBeGreaterThan(1e-3);
    m.dispose();
  });

  it.skipIf(skip)("one training step: loss, gradients and moving stats equal tfjs' own", async () => {
    await use();
    const ours = model(false);
    const ref = model(false);
    const { x, y } = batch();
    const before = movingStats(ours);

    const moments: BatchMoments[] = [];
    const mine = tf.variableGrads(
      () => sparseCategoricalCrossEntropy(y, forward(ours, x, { training: { seed: 1, step: 1, moments } })),
      trainable(ours).map((t) => t.v),
    );
    expect(moments.map((m) => m.layer)).toEqual(['bn1', 'bn2']);
    // The pass itself leaves the moving stats alone; the update comes after the step.
    movingStats(ours).forEach((w, i) => expect(Array.from(w.values)).toEqual(Array.from(before[i]!.values)));
    updateMovingStats(moments);

    // tfjs' BatchNormalization normalizes with the batch moments and moves its stats inside call.
    const theirs = tf.variableGrads(
      () => sparseCategoricalCrossEntropy(y, ref.apply(x, { training: true }) as tf.Tensor),
      trainable(ref).map((t) => t.v),
    );
    const loss = mine.value.dataSync()[0]!;
    expect(Math.abs(loss - theirs.value.dataSync()[0]!)).toBeLessThan(1e-4);
    // Batch statistics, not the moving ones: the inference loss differs.
    const inferenceLoss = sparseCategoricalCrossEntropy(y, forward(ref, x)).dataSync()[0]!;
    expect(Math.abs(loss - inferenceLoss)).toBeGreaterThan(1e-3);

    const refVars = trainable(ref);
    const names = trainable(ours).map((t) => t.name);
    expect(names).toContain('bn1/gamma');
    expect(names).toContain('bn2/beta');
    expect(names).toContain('dw/depthwise_kernel');
    expect(names).toContain('sep/pointwise_kernel');
    expect(names.some((n) => n.includes('moving'))).toBe(false);
    trainable(ours).forEach((t, i) => {
      const g = mine.grads[t.v.name]!.dataSync();
      const r = theirs.grads[refVars[i]!.v.name]!.dataSync();
      expect(maxAbsDiff(g, r), t.name).toBeLessThan(1e-4);
      expect(
        r.some((v) => Math.abs(v) > 1e-6),
        `${t.name} gets a gradient`,
      ).toBe(true);
    });

    const after = movingStats(ours);
    movingStats(ref).forEach((w, i) => {
      expect(after[i]!.name).toBe(w.name);
      expect(maxAbsDiff(after[i]!.values, w.values), w.name).toBeLessThan(1e-6);
      expect(maxAbsDiff(w.values, before[i]!.values), `${w.name} moved`).toBeGreaterThan(1e-3);
    });
    ours.dispose();
    ref.dispose();
  });
});
