import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@squash/backend';
import { batchAugmenter, type BatchAugment, type Dataset, loadDataset } from '@squash/datasets';
import { buildModel, evaluate, fineTune, getWeights, train, type TrainOptions } from './index.js';

const tiny = {
  name: 'tiny',
  layers: [
    { type: 'flatten' as const },
    { type: 'dense' as const, units: 8, activation: 'relu' as const },
    { type: 'dense' as const, units: 10, activation: 'softmax' as const },
  ],
};
let data: Dataset;
const OPTS: TrainOptions = { epochs: 2, batchSize: 16, learningRate: 0.01, seed: 4, validationSplit: 0.25 };
const augment = () => batchAugmenter({ crop: { padding: 2 }, flip: true, shift: 1 }, data.inputShape)!;

beforeAll(async () => {
  await selectBackend({ prefer: 'cpu' });
  data = await loadDataset({ name: 'synthetic', seed: 2, samples: { train: 64, test: 20 } });
});

/** Trains with `hook` after `augment`, recording what each step trained on. */
async function recorded(hook: BatchAugment | undefined, run: typeof train = train) {
  const batches: Array<{ epoch: number; x: number[]; indices: number[] }> = [];
  const model = buildModel(tiny, data.inputShape, 1);
  await run(model, data.train, {
    ...OPTS,
    augment: (b, n, at) => {
      hook?.(b, n, at);
      batches.push({ epoch: at.epoch, x: [...b.subarray(0, n * 784)], indices: Array.from(at.indices) });
    },
  });
  const weights = getWeights(model).map((w) => [...w.values]);
  return { model, batches, weights };
}

describe('TrainOptions.augment', () => {
  it('the same seed trains on the same augmented batches, to the same weights', async () => {
    const a = await recorded(augment());
    const b = await recorded(augment());
    expect(b.batches).toEqual(a.batches);
    expect(b.weights).toEqual(a.weights);
    const plain = await recorded(undefined);
    expect(plain.weights).not.toEqual(a.weights);
    // A sample's moves differ between epochs.
    const inEpoch = (e: number, k: number) => {
      const batch = a.batches.find((x) => x.epoch === e && x.indices.includes(k))!;
      const i = batch.indices.indexOf(k);
      return batch.x.slice(i * 784, (i + 1) * 784);
    };
    expect(inEpoch(2, 0)).not.toEqual(inEpoch(1, 0));
  });

  it('sees only training samples, in copies: the splits and the test evaluation stay as they were', async () => {
    const train0 = data.train.x.slice();
    const test0 = data.test.x.slice();
    const { model, batches } = await recorded(augment(), fineTune);
    // 64 samples, validationSplit 0.25: indices 48–63 are validation and never trained on.
    const seen = new Set(batches.flatMap((b) => b.indices));
    expect(Math.max(...seen)).toBe(47);
    expect(seen.size).toBe(48);
    expect([...data.train.x]).toEqual([...train0]);
    expect([...data.test.x]).toEqual([...test0]);
    expect(evaluate(model, data.test)).toEqual(evaluate(model, { ...data.test, x: test0 }));
  });
});
