import { describe, expect, it } from 'vitest';
import { loadDataset, type Dataset } from './index.js';
import { expectDatasetError } from './__tests__/fixtures.js';

const bytes = (a: Float32Array | Uint8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('synthetic', () => {
  it('has MNIST-like shape and the default sizes', async () => {
    const ds = await loadDataset({ name: 'synthetic' });
    expect(ds.inputShape).toEqual([28, 28]);
    expect(ds.numClasses).toBe(10);
    expect(ds.train.count).toBe(2000);
    expect(ds.test.count).toBe(500);
    expect(ds.train.x.length).toBe(2000 * 784);
    expect(ds.train.y.length).toBe(2000);
    let min = Infinity,
      max = -Infinity;
    for (const v of ds.train.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    const hist = new Array(10).fill(0);
    for (const l of ds.train.y) hist[l]++;
    expect(hist).toEqual(new Array(10).fill(200));
  });

  it('is byte-identical for the same seed and differs for another', async () => {
    const a = await loadDataset({ name: 'synthetic', seed: 7, samples: { train: 100, test: 30 } });
    const b = await loadDataset({ name: 'synthetic', seed: 7, samples: { train: 100, test: 30 } });
    const c = await loadDataset({ name: 'synthetic', seed: 8, samples: { train: 100, test: 30 } });
    expect(bytes(a.train.x).equals(bytes(b.train.x))).toBe(true);
    expect(bytes(a.test.x).equals(bytes(b.test.x))).toBe(true);
    expect(bytes(a.train.y).equals(bytes(b.train.y))).toBe(true);
    expect(bytes(a.train.x).equals(bytes(c.train.x))).toBe(false);
  });

  it('keeps the training data when only the test size changes', async () => {
    const a = await loadDataset({ name: 'synthetic', samples: { train: 40, test: 10 } });
    const b = await loadDataset({ name: 'synthetic', samples: { train: 40, test: 90 } });
    expect(bytes(a.train.x).equals(bytes(b.train.x))).toBe(true);
  });

  it('is learnable: nearest class mean of the training set classifies the test set', async () => {
    const ds = await loadDataset({ name: 'synthetic', seed: 3 });
    const accuracy = nearestMeanAccuracy(ds);
    expect(accuracy).toBeGreaterThan(0.95);
  });

  it('rejects bad sample counts', async () => {
    const err = await expectDatasetError(
      () => loadDataset({ name: 'synthetic', samples: { test: 0 } }),
      'dataset.samples.test must be a positive integer, got 0',
    );
    expect(err.location?.path).toBe('dataset.samples.test');
  });
});

function nearestMeanAccuracy(ds: Dataset): number {
  const d = 784;
  const means = Array.from({ length: 10 }, () => new Float64Array(d));
  const counts = new Array(10).fill(0);
  for (let i = 0; i < ds.train.count; i++) {
    counts[ds.train.y[i]]++;
    for (let p = 0; p < d; p++) means[ds.train.y[i]][p] += ds.train.x[i * d + p];
  }
  means.forEach((m, c) =>
    m.forEach((_, p) => {
      m[p] /= counts[c];
    }),
  );
  let right = 0;
  for (let i = 0; i < ds.test.count; i++) {
    let best = -1,
      bestDist = Infinity;
    for (let c = 0; c < 10; c++) {
      let dist = 0;
      for (let p = 0; p < d; p++) dist += (ds.test.x[i * d + p] - means[c][p]) ** 2;
      if (dist < bestDist) {
        bestDist = dist;
        best = c;
      }
    }
    if (best === ds.test.y[i]) right++;
  }
  return right / ds.test.count;
}
