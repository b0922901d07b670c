import { describe, expect, it } from 'vitest';
import type { Split } from './dataset.js';
import { loadDataset } from './index.js';
import { applyNormalization, canonicalNormalize, normalizationOf, normalizeSplits } from './normalize.js';
import { expectDatasetError } from './__tests__/fixtures.js';

const split = (values: number[], count: number): Split => ({
  x: Float32Array.from(values),
  y: new Uint8Array(count),
  count,
});

// Two 1×2×2 images ([h, w, c]): channel 0 holds 0, 2, 4, 6 and channel 1 holds 1, 1, 3, 3.
const SHAPE = [1, 2, 2];
const TRAIN = split([0, 1, 2, 1, 4, 3, 6, 3], 2);

describe('normalizationOf', () => {
  it('per-channel: mean and population std of each channel (the last axis) of the training split', () => {
    const n = normalizationOf(TRAIN, SHAPE, 'per-channel');
    expect(n.scale).toBe(1);
    expect(n.mean).toEqual([3, 2]);
    // channel 0: deviations −3, −1, 1, 3 → var 5; channel 1: −1, −1, 1, 1 → var 1.
    expect(n.std[0]).toBeCloseTo(Math.sqrt(5), 12);
    expect(n.std[1]).toBe(1);
  });

  it('global: one mean and std over every value', () => {
    const n = normalizationOf(TRAIN, SHAPE, 'global');
    const values = [0, 1, 2, 1, 4, 3, 6, 3];
    const mean = values.reduce((a, b) => a + b) / 8;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 8);
    expect(n.mean).toEqual([mean, mean]);
    expect(n.std[0]).toBeCloseTo(std, 12);
    expect(n.std[1]).toBeCloseTo(std, 12);
  });

  it('scale multiplies first: statistics are of the scaled values', () => {
    const n = normalizationOf(TRAIN, SHAPE, { scale: 255, mean: 'per-channel', std: 'per-channel' });
    expect(n.mean).toEqual([765, 510]);
    expect(n.std[1]).toBe(255);
    const out = applyNormalization(Float32Array.from([6, 3]), [2], { scale: 255, mean: [765], std: [255] });
    expect([...out]).toEqual([3, 0]);
  });

  it('explicit values: one for all channels, a list per channel, defaults mean 0 and std 1', () => {
    expect(normalizationOf(TRAIN, SHAPE, { mean: 0.5 })).toEqual({ scale: 1, mean: [0.5, 0.5], std: [1, 1] });
    expect(normalizationOf(TRAIN, SHAPE, { mean: [1, 2], std: [4] })).toEqual({ scale: 1, mean: [1, 2], std: [4, 4] });
  });

  it('a [h, w] image or a flat vector has one channel', () => {
    expect(normalizationOf(split([0, 2, 4, 6], 1), [2, 2], 'per-channel').mean).toEqual([3]);
    expect(normalizationOf(split([0, 2, 4, 6], 2), [2], 'per-channel').mean).toEqual([3]);
  });

  it('a constant channel is only centred (std 0 becomes 1)', () => {
    const n = normalizationOf(split([5, 1, 5, 3], 2), [1, 1, 2], 'per-channel');
    expect(n.mean).toEqual([5, 2]);
    expect(n.std).toEqual([1, 1]);
  });

  it('a list whose length is not the channel count is a located DatasetError', async () => {
    const err = await expectDatasetError(
      () => normalizationOf(TRAIN, SHAPE, { mean: [0.1, 0.2, 0.3] }),
      'dataset.normalize.mean has 3 values but the data has 2 channels',
    );
    expect(err.location?.path).toBe('dataset.normalize.mean');
  });
});

describe('normalizeSplits', () => {
  const TEST = split([6, 3, 0, 1], 1);

  it('applies the training statistics to both splits', () => {
    const { train, test, normalization } = normalizeSplits(TRAIN, TEST, SHAPE, 'per-channel');
    const s0 = Math.sqrt(5);
    expect([...train.x].map((v) => +v.toFixed(5))).toEqual(
      [-3 / s0, -1, -1 / s0, -1, 1 / s0, 1, 3 / s0, 1].map((v) => +Math.fround(v).toFixed(5)),
    );
    expect([...test.x].map((v) => +v.toFixed(5))).toEqual([3 / s0, 1, -3 / s0, -1].map((v) => +v.toFixed(5)));
    expect(normalization.mean).toEqual([3, 2]);
  });

  it('test data, however different, never changes the statistics', () => {
    const wild = split([1e6, -1e6, 5e5, 42], 1);
    const a = normalizeSplits(TRAIN, TEST, SHAPE, 'per-channel');
    const b = normalizeSplits(TRAIN, wild, SHAPE, 'per-channel');
    expect(b.normalization).toEqual(a.normalization);
    expect([...b.train.x]).toEqual([...a.train.x]);
  });

  it('leaves its inputs alone unless asked to work in place', () => {
    const train = split([0, 1, 2, 1, 4, 3, 6, 3], 2);
    const before = [...train.x];
    normalizeSplits(train, TEST, SHAPE, 'per-channel');
    expect([...train.x]).toEqual(before);
    const inPlace = normalizeSplits(train, split([6, 3, 0, 1], 1), SHAPE, 'per-channel', { inPlace: true });
    expect(inPlace.train.x).toBe(train.x);
    expect(train.x[0]).not.toBe(0);
  });
});

describe('canonicalNormalize (what ids hash)', () => {
  it('expands shorthands and drops defaults', () => {
    expect(canonicalNormalize('per-channel')).toEqual(
      canonicalNormalize({ scale: 1, mean: 'per-channel', std: 'per-channel' }),
    );
    expect(canonicalNormalize({ mean: [0.5, 0.5, 0.5], std: 0.25 })).toEqual({ mean: 0.5, std: 0.25 });
    expect(canonicalNormalize({ mean: 0, std: [1, 1, 1], scale: 1 })).toBeUndefined();
    expect(canonicalNormalize(undefined)).toBeUndefined();
    expect(canonicalNormalize({ mean: [0.1, 0.2] })).toEqual({ mean: [0.1, 0.2] });
  });
});

describe('loadDataset with normalize', () => {
  const SAMPLES = { train: 120, test: 40 };

  it('normalizes both splits with the training statistics and records them', async () => {
    const raw = await loadDataset({ name: 'synthetic', seed: 11, samples: SAMPLES });
    const rawTest = raw.test.x.slice();
    const ds = await loadDataset({ name: 'synthetic', seed: 11, samples: SAMPLES, normalize: 'global' });
    const n = ds.normalization!;
    let sum = 0;
    for (const v of raw.train.x) sum += v;
    expect(n.mean[0]).toBeCloseTo(sum / raw.train.x.length, 6);
    expect(ds.test.x[5]).toBeCloseTo((rawTest[5]! - n.mean[0]!) / n.std[0]!, 5);
    // The shared raw copy was copied, not changed.
    expect([...raw.test.x]).toEqual([...rawTest]);
    expect(raw.normalization).toBeUndefined();
  });

  it('decodes once per process: a second load shares the normalized arrays', async () => {
    const spec = { name: 'synthetic', seed: 12, samples: SAMPLES, normalize: 'per-channel' as const };
    const a = await loadDataset(spec);
    const b = await loadDataset({ ...spec });
    expect(b.train.x).toBe(a.train.x);
    // Normalized in place (nobody else held the data): a raw load afterwards decodes again, unchanged.
    const raw = await loadDataset({ name: 'synthetic', seed: 12, samples: SAMPLES });
    expect(raw.train.x).not.toBe(a.train.x);
    expect(Math.min(...raw.train.x)).toBeGreaterThanOrEqual(0);
    expect(Math.min(...a.train.x)).toBeLessThan(0);
  });

  it('statistics come from the limited training split', async () => {
    const full = await loadDataset({ name: 'synthetic', seed: 13, samples: SAMPLES });
    const cut = await loadDataset({
      name: 'synthetic',
      seed: 13,
      samples: SAMPLES,
      limits: { train: 10 },
      normalize: 'global',
    });
    let sum = 0;
    for (let i = 0; i < 10 * 784; i++) sum += full.train.x[i]!;
    expect(cut.normalization!.mean[0]).toBeCloseTo(sum / (10 * 784), 6);
    expect(cut.train.count).toBe(10);
  });
});
