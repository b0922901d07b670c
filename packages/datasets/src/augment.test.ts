import { describe, expect, it } from 'vitest';
import { batchAugmenter, blackOf, canonicalAugment, moveSample, sampleMoves, type SampleMoves } from './augment.js';
import { expectDatasetError } from './__tests__/fixtures.js';

const NONE: SampleMoves = { cropY: 0, cropX: 0, flip: false, shiftY: 0, shiftX: 0 };
const L3 = { h: 3, w: 3, c: 1 };
// 1 2 3
// 4 5 6
// 7 8 9
const IMG = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);

const moved = (m: Partial<SampleMoves>, img = IMG, layout = L3, fill: number[] = [0]) => {
  const out = new Float32Array(img.length);
  moveSample(img, out, layout, { ...NONE, ...m }, fill);
  return [...out];
};

describe('moveSample (hand-checked on a 3×3 image)', () => {
  it('no move copies', () => expect(moved({})).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]));

  it('crop: pad with the fill, cut at the offset (content moves up/left by it)', () => {
    expect(moved({ cropY: 1 })).toEqual([4, 5, 6, 7, 8, 9, 0, 0, 0]);
    expect(moved({ cropY: -1, cropX: 1 }, IMG, L3, [-7])).toEqual([-7, -7, -7, 2, 3, -7, 5, 6, -7]);
    expect(moved({ cropX: -2 })).toEqual([0, 0, 1, 0, 0, 4, 0, 0, 7]);
  });

  it('flip mirrors left–right', () => expect(moved({ flip: true })).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7]));

  it('shift moves content down/right, repeating the edge pixels', () => {
    expect(moved({ shiftX: 1 })).toEqual([1, 1, 2, 4, 4, 5, 7, 7, 8]);
    expect(moved({ shiftY: -1 })).toEqual([4, 5, 6, 7, 8, 9, 7, 8, 9]);
  });

  it('crop, then flip, then shift, channel by channel', () => {
    // 2×2 with two channels: pixel (y, x) holds [10y + x, −(10y + x)].
    const img = Float32Array.from([0, -0, 1, -1, 10, -10, 11, -11]);
    const l = { h: 2, w: 2, c: 2 };
    // crop x +1: [[1, fill], [11, fill]]; flip: [[fill, 1], [fill, 11]]; shift y +1: row 0 repeated.
    expect(moved({ cropX: 1, flip: true, shiftY: 1 }, img, l, [100, 200])).toEqual([100, 200, 1, -1, 100, 200, 1, -1]);
  });
});

describe('sampleMoves', () => {
  const spec = { crop: { padding: 2 }, flip: true, shift: 1 };

  it('draws each offset uniformly from [−r, r] and flips about half the samples', () => {
    const seen = { cropY: new Set<number>(), shiftX: new Set<number>() };
    let flips = 0;
    for (let i = 0; i < 2000; i++) {
      const m = sampleMoves(spec, 5, 1, i);
      seen.cropY.add(m.cropY);
      seen.shiftX.add(m.shiftX);
      flips += m.flip ? 1 : 0;
    }
    expect([...seen.cropY].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
    expect([...seen.shiftX].sort((a, b) => a - b)).toEqual([-1, 0, 1]);
    expect(flips).toBeGreaterThan(900);
    expect(flips).toBeLessThan(1100);
  });

  it('is a function of (seed, epoch, index): same inputs, same moves; another epoch or seed, others', () => {
    const all = (seed: number, epoch: number) =>
      Array.from({ length: 50 }, (_, i) => JSON.stringify(sampleMoves(spec, seed, epoch, i)));
    expect(all(5, 1)).toEqual(all(5, 1));
    expect(all(5, 2)).not.toEqual(all(5, 1));
    expect(all(6, 1)).not.toEqual(all(5, 1));
    // Seeds past 2^32 are not folded onto small ones.
    expect(all(5 + 2 ** 32, 1)).not.toEqual(all(5, 1));
  });

  it('only what the spec asks for moves; enabling a move leaves the others as they were', () => {
    const flipOnly = sampleMoves({ flip: true }, 5, 1, 3);
    expect([flipOnly.cropX, flipOnly.cropY, flipOnly.shiftX, flipOnly.shiftY]).toEqual([0, 0, 0, 0]);
    const withFlip = sampleMoves({ crop: { padding: 2 }, flip: true }, 5, 1, 3);
    const without = sampleMoves({ crop: { padding: 2 } }, 5, 1, 3);
    expect([withFlip.cropX, withFlip.cropY]).toEqual([without.cropX, without.cropY]);
  });
});

describe('batchAugmenter', () => {
  const shape = [4, 4, 3];
  const per = 48;
  const source = Float32Array.from({ length: 8 * per }, (_, i) => (i % 97) / 97);
  const batchOf = (indices: number[]) => {
    const b = new Float32Array(indices.length * per);
    indices.forEach((k, i) => b.set(source.subarray(k * per, (k + 1) * per), i * per));
    return b;
  };
  const spec = { crop: { padding: 1 }, flip: true, shift: 1 };

  it('same seed, same batches; another epoch, other batches; a sample moves the same wherever it sits in the batch', () => {
    const run = (indices: number[], epoch: number) => {
      const b = batchOf(indices);
      batchAugmenter(spec, shape)!(b, indices.length, { seed: 9, epoch, step: 1, indices });
      return b;
    };
    expect([...run([0, 1, 2, 3, 4, 5, 6, 7], 1)]).toEqual([...run([0, 1, 2, 3, 4, 5, 6, 7], 1)]);
    expect([...run([0, 1, 2, 3, 4, 5, 6, 7], 2)]).not.toEqual([...run([0, 1, 2, 3, 4, 5, 6, 7], 1)]);
    const a = run([3, 5], 1);
    const b = run([5, 3], 1);
    expect([...a.subarray(0, per)]).toEqual([...b.subarray(per)]);
    // Something moved.
    expect([...run([0, 1, 2, 3, 4, 5, 6, 7], 1)]).not.toEqual([...batchOf([0, 1, 2, 3, 4, 5, 6, 7])]);
  });

  it('changes only the first n samples of the buffer', () => {
    const b = batchOf([0, 1, 2]);
    const tail = [...b.subarray(2 * per)];
    batchAugmenter(spec, shape)!(b, 2, { seed: 9, epoch: 1, step: 1, indices: [0, 1, 2] });
    expect([...b.subarray(2 * per)]).toEqual(tail);
  });

  it('pads with black after normalization', () => {
    expect([...blackOf({ scale: 1, mean: [0.5, 0.25], std: [0.5, 0.25] }, 2)]).toEqual([-1, -1]);
    expect([...blackOf(undefined, 3)]).toEqual([0, 0, 0]);
  });

  it('is undefined when nothing moves, and refuses data that is not an image', async () => {
    expect(batchAugmenter({ flip: false, shift: 0 }, shape)).toBeUndefined();
    expect(batchAugmenter(undefined, [3])).toBeUndefined();
    const err = await expectDatasetError(() => batchAugmenter({ flip: true }, [784]), 'shape [784]');
    expect(err.location?.path).toBe('dataset.augment');
  });

  it('canonicalAugment drops moves that do nothing', () => {
    expect(canonicalAugment({ crop: { padding: 0 }, flip: false, shift: 0 })).toBeUndefined();
    expect(canonicalAugment({ flip: true, shift: 0 })).toEqual({ flip: true });
  });
});
