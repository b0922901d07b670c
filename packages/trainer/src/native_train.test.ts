import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '@squash/backend';
import { loadDataset } from '@squash/datasets';
import {
  buildModel,
  fineTune,
  getWeights,
  resolveModelSpec,
  steKernel,
  train,
  type ModelSpec,
  type OptimizerSettings,
} from './index.js';

// The trainer's own loop (fused Adam included) on the native backend against the reference cpu
// backend: same seed, same data, so the weights after a few steps must agree to float tolerance.
const lenet5Small: ModelSpec = {
  name: 'lenet5-small',
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 5 },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'conv2d', filters: 6, kernelSize: 3, padding: 'same' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 32, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

// The addon may not have built on this machine (no compiler): then the backend is unavailable.
const nativeAvailable = await selectBackend({ prefer: 'native' }).then(
  () => true,
  () => false,
);
if (!nativeAvailable) console.warn('native backend unavailable: native training test skipped');

// The fused native updates against the JavaScript loops the other backends run.
const OPTIMIZERS: Array<[string, Partial<OptimizerSettings>, number]> = [
  ['Adam', {}, 1e-3],
  ['SGD + momentum + L2 + inv', { optimizer: 'sgd', momentum: 0.9, weightDecay: 5e-4, schedule: 'inv' }, 0.01],
  ['Nesterov + clipping', { optimizer: 'sgd', momentum: 0.9, nesterov: true, gradClipNorm: 0.5 }, 0.01],
  ['AdamW + cosine', { optimizer: 'adamw', weightDecay: 0.01, schedule: 'cosine' }, 1e-3],
];

describe.skipIf(!nativeAvailable)('training on the native backend', () => {
  it.each(
    ['lenet-300-100', 'lenet5-small'].flatMap((name) =>
      OPTIMIZERS.map(([label, optimizer, learningRate]) => [name, label, optimizer, learningRate] as const),
    ),
  )('%s, %s: the weights after 6 steps match the cpu backend', async (name, _label, optimizer, learningRate) => {
    const data = await loadDataset({ name: 'synthetic', samples: { train: 6 * 32, test: 10 } });
    const spec = name === 'lenet5-small' ? lenet5Small : resolveModelSpec(name);
    const run = async (backend: 'native' | 'cpu') => {
      await selectBackend({ prefer: backend });
      expect(tf.getBackend()).toBe(backend);
      const model = buildModel(spec, data.inputShape, 3);
      const [log] = await train(model, data.train, { epochs: 1, batchSize: 32, learningRate, seed: 3, optimizer });
      const weights = getWeights(model);
      model.dispose();
      return { loss: log!.loss, weights };
    };
    const ref = await run('cpu');
    const got = await run('native');
    expect(got.loss).toBeCloseTo(ref.loss, 4);
    got.weights.forEach((w, i) => {
      const r = ref.weights[i]!;
      expect(w.name).toBe(r.name);
      let worst = 0;
      for (let j = 0; j < r.values.length; j++) worst = Math.max(worst, Math.abs(w.values[j]! - r.values[j]!));
      // Six steps move a weight by ~lr each; float rounding differences stay far below that.
      expect(worst, `${w.name}`).toBeLessThan(2e-4);
    });
  });
});

describe.skipIf(!nativeAvailable)('fine-tuning on the native backend', () => {
  // Fine-tuning runs fused kernels on native (bias and relu inside the matMul/conv): they must give
  // the weights the separate ops give, bit for bit, so the speed-up changes no recorded number.
  it.each([['lenet-300-100'], ['lenet5-small']])(
    '%s: fused and separate ops train to identical weights',
    async (name) => {
      await selectBackend({ prefer: 'native' });
      const data = await loadDataset({ name: 'synthetic', samples: { train: 4 * 32, test: 10 } });
      const spec = name === 'lenet5-small' ? lenet5Small : resolveModelSpec(name);
      const run = async (fuse: boolean) => {
        const model = buildModel(spec, data.inputShape, 4);
        const kernels = getWeights(model).filter((w) => w.name.endsWith('/kernel'));
        const masks = new Map(kernels.map((w) => [w.name, Uint8Array.from(w.values, (_, i) => (i % 3 ? 1 : 0))]));
        // A straight-through kernel replacement on the first layer, as uniform quantization does.
        const ste = steKernel(
          new Map([[kernels[0]!.name, (v: Float32Array) => v.map((x) => Math.round(x * 64) / 64)]]),
        );
        await fineTune(model, data.train, {
          epochs: 1,
          batchSize: 32,
          learningRate: 0.01,
          seed: 2,
          optimizer: { optimizer: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
          masks,
          kernelFor: ste,
          fuse,
        });
        const weights = getWeights(model);
        model.dispose();
        return weights;
      };
      const separate = await run(false);
      const fused = await run(true);
      fused.forEach((w, i) => expect(Array.from(w.values), w.name).toEqual(Array.from(separate[i]!.values)));
    },
  );
});
