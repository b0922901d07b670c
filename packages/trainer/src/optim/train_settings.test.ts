import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@squash/backend';
import { loadDataset, type Dataset } from '@squash/datasets';
import { buildModel, fineTune, getWeights, sparseCategoricalCrossEntropy, train, type ModelSpec } from '../index.js';
import type { OptimizerSettings } from './settings.js';

const tiny: ModelSpec = {
  name: 'tiny',
  layers: [
    { type: 'flatten' },
    { type: 'dense', units: 16, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};
let data: Dataset;

beforeAll(async () => {
  await selectBackend({ prefer: 'auto' });
  data = await loadDataset({ name: 'synthetic', samples: { train: 640, test: 200 } });
});

async function trained(optimizer: Partial<OptimizerSettings>, learningRate: number, seed = 5) {
  const model = buildModel(tiny, data.inputShape, seed);
  const logs = await train(model, data.train, { epochs: 3, batchSize: 32, learningRate, seed, optimizer });
  const weights = getWeights(model);
  model.dispose();
  return { logs, weights };
}

const settings: Array<[string, Partial<OptimizerSettings>, number]> = [
  ['caffe sgd (momentum, L2, inv)', { optimizer: 'sgd', momentum: 0.9, weightDecay: 5e-4, schedule: 'inv' }, 0.05],
  [
    'nesterov, multistep',
    { optimizer: 'sgd', momentum: 0.9, nesterov: true, schedule: 'multistep', milestones: '20,40' },
    0.05,
  ],
  ['adam, step', { optimizer: 'adam', schedule: 'step', stepSize: 20 }, 0.005],
  ['adamw, cosine with warmup', { optimizer: 'adamw', weightDecay: 0.01, schedule: 'cosine', warmupSteps: 10 }, 0.005],
  ['sgd, clipped, label smoothing', { optimizer: 'sgd', momentum: 0.9, gradClipNorm: 1, labelSmoothing: 0.1 }, 0.05],
];

describe('training with each optimizer', () => {
  it.each(settings)('%s: learns, and the same seed gives the same weights', async (_, s, lr) => {
    const a = await trained(s, lr);
    const b = await trained(s, lr);
    a.weights.forEach((w, i) => expect(Array.from(b.weights[i]!.values)).toEqual(Array.from(w.values)));
    expect(a.logs.at(-1)!.accuracy).toBeGreaterThan(0.5);
    const other = await trained(s, lr, 6);
    expect(Array.from(other.weights[0]!.values)).not.toEqual(Array.from(a.weights[0]!.values));
  });

  it('iterations: stops after exactly that many steps, mid-epoch', async () => {
    const model = buildModel(tiny, data.inputShape, 1);
    let steps = 0;
    // 640 samples at batch 32 = 20 steps per epoch: 45 steps = 2 epochs and 5 steps.
    const logs = await fineTune(model, data.train, {
      epochs: 1,
      iterations: 45,
      batchSize: 32,
      learningRate: 0.01,
      seed: 1,
      optimizer: { optimizer: 'sgd' },
      afterStep: () => steps++,
    });
    model.dispose();
    expect(steps).toBe(45);
    expect(logs).toHaveLength(3);
    expect(logs[2]!.samplesPerSecond).toBeGreaterThan(0);
  });
});

describe('label smoothing', () => {
  it('cross-entropy against (1 − ε)·onehot + ε/K, by hand', () => {
    const probs = tf.tensor2d([[0.7, 0.2, 0.1]]);
    const labels = tf.tensor1d([0], 'int32');
    const eps = 0.3;
    const want = -((1 - eps + eps / 3) * Math.log(0.7) + (eps / 3) * Math.log(0.2) + (eps / 3) * Math.log(0.1));
    expect(sparseCategoricalCrossEntropy(labels, probs, eps).dataSync()[0]).toBeCloseTo(want, 5);
    expect(sparseCategoricalCrossEntropy(labels, probs).dataSync()[0]).toBeCloseTo(-Math.log(0.7), 5);
    tf.dispose([probs, labels]);
  });
});
