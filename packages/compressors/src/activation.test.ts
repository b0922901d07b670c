import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { calibrateMinMax, fakeQuantizeImpl, fakeQuantizeInPlace } from './index.js';

const f32 = (a: number[]) => new Float32Array(a);

describe('calibrateMinMax', () => {
  it('always includes 0 and skips non-finite samples', () => {
    expect(calibrateMinMax(f32([0.5, 2, 3]))).toEqual({ min: 0, max: 3 });
    expect(calibrateMinMax(f32([-1, 2]))).toEqual({ min: -1, max: 2 });
    expect(calibrateMinMax(f32([-3, -1]))).toEqual({ min: -3, max: 0 });
    expect(calibrateMinMax(f32([]))).toEqual({ min: 0, max: 0 });
    expect(calibrateMinMax(f32([1, NaN, Infinity, -Infinity, -2]))).toEqual({ min: -2, max: 1 });
  });
});

describe('fakeQuantizeImpl', () => {
  it('unsigned range [0, 3], 2 bits → levels {0, 1, 2, 3}', () => {
    const x = f32([-0.5, 0, 0.4, 0.5, 1.49, 2.5, 3, 7]);
    expect(fakeQuantizeImpl(x, { min: 0, max: 3 }, 2)).toEqual(f32([0, 0, 0, 1, 1, 3, 3, 3]));
    expect(x).toEqual(f32([-0.5, 0, 0.4, 0.5, 1.49, 2.5, 3, 7])); // not in place
  });

  it('signed range [-1, 2], 2 bits → zeroPoint 1, levels {-1, 0, 1, 2}', () => {
    const x = f32([-2, -1, -0.5, 0, 0.5, 1.5, 2, 5]);
    expect(fakeQuantizeImpl(x, { min: -1, max: 2 }, 2)).toEqual(f32([-1, -1, -1, 0, 1, 2, 2, 2]));
  });

  it('keeps 0 exact when -min/scale is not an integer (grid shifts instead)', () => {
    // scale 2/3, -min/scale = 1.5 → zeroPoint 2: levels {-4/3, -2/3, 0, 2/3}
    const out = fakeQuantizeImpl(f32([-1, 0, 1, -0.2]), { min: -1, max: 1 }, 2);
    expect(out).toEqual(f32([-4 / 3, 0, 2 / 3, 0]));
  });

  it('1 bit over [0, 2] → {0, 2}', () => {
    expect(fakeQuantizeImpl(f32([0.9, 1, 1.1, -1]), { min: 0, max: 2 }, 1)).toEqual(f32([0, 2, 2, 0]));
  });

  it('8 bits over [0, 255] is the identity on integers', () => {
    const x = f32([0, 1, 17, 128, 254, 255]);
    expect(fakeQuantizeImpl(x, { min: 0, max: 255 }, 8)).toEqual(x);
  });

  it('degenerate range gives its single level without NaN', () => {
    expect(fakeQuantizeImpl(f32([1, -1, 0]), { min: 0, max: 0 }, 4)).toEqual(f32([0, 0, 0]));
    expect(fakeQuantizeImpl(f32([1, -1]), { min: 2, max: 2 }, 4)).toEqual(f32([2, 2]));
  });

  it('rejects bad bits and bad ranges; NaN activations propagate', () => {
    for (const b of [0, 17, 1.5]) expect(() => fakeQuantizeImpl(f32([1]), { min: 0, max: 1 }, b)).toThrow(RangeError);
    expect(() => fakeQuantizeImpl(f32([1]), { min: 1, max: 0 }, 4)).toThrow(/range/);
    expect(() => fakeQuantizeImpl(f32([1]), { min: 0, max: Infinity }, 4)).toThrow(/range/);
    expect(fakeQuantizeImpl(f32([NaN, 1]), { min: 0, max: 1 }, 1)).toEqual(f32([NaN, 1]));
  });

  it('in-place variant writes into its argument', () => {
    const x = f32([0.4, 2.6]);
    fakeQuantizeInPlace(x, { min: 0, max: 3 }, 2);
    expect(x).toEqual(f32([0, 3]));
  });

  it('property: at most 2^b distinct values, 0 → 0 exactly, error <= scale/2 inside the range', () => {
    const rng = createRng(5);
    for (let trial = 0; trial < 60; trial++) {
      const bits = 1 + rng.int(8);
      const n = 2 + rng.int(2000);
      const relu = rng.next() < 0.5;
      const x = new Float32Array(n).map(() => (relu ? Math.max(0, rng.normal()) : rng.normal()));
      x[rng.int(n)] = 0;
      const range = calibrateMinMax(x);
      const out = fakeQuantizeImpl(x, range, bits);
      expect(new Set(out).size).toBeLessThanOrEqual(2 ** bits);
      const qmax = 2 ** bits - 1;
      const scale = (range.max - range.min) / qmax;
      const zp = Math.min(qmax, Math.max(0, Math.round(-range.min / scale)));
      const lo = -zp * scale;
      const hi = (qmax - zp) * scale;
      const eps = 1e-6;
      for (let i = 0; i < n; i++) {
        if (x[i] === 0) expect(out[i]).toBe(0);
        // Integer codes: every output is a whole number of steps from 0.
        const steps = out[i] / scale;
        expect(Math.abs(steps - Math.round(steps))).toBeLessThan(1e-3);
        // Inside the grid's span error <= scale/2; the integer zero point shifts the grid by at
        // most scale/2 against [min, max], so a calibrated value clips by at most one scale.
        const inside = x[i] >= lo && x[i] <= hi;
        expect(Math.abs(out[i] - x[i])).toBeLessThanOrEqual((inside ? scale / 2 : scale) + eps);
      }
      if (relu) expect(Math.min(...out)).toBe(0);
    }
  });
});

import { calibrateMovingAverage, calibratePercentile } from './activation.js';
describe('percentile and moving-average calibration', () => {
  it('cuts outliers at the percentile and keeps 0 in the range', () => {
    const v = Float32Array.from({ length: 101 }, (_, i) => i); // 0..100
    expect(calibratePercentile(v, 99)).toEqual({ min: 0, max: 99 });
    expect(calibratePercentile(v, 100)).toEqual({ min: 0, max: 100 });
    const signed = Float32Array.from({ length: 201 }, (_, i) => i - 100); // −100..100
    expect(calibratePercentile(signed, 90)).toEqual({ min: -80, max: 80 });
    expect(() => calibratePercentile(v, 50)).toThrow(/percentile must be in \(50, 100\]/);
  });
  it('moves the range by (1 − momentum) per batch from the first batch', () => {
    const r = calibrateMovingAverage(
      [Float32Array.from([0, 10]), Float32Array.from([-2, 20]), Float32Array.from([0, 10])],
      0.5,
    );
    // [0,10] → 0.5·[0,10] + 0.5·[−2,20] = [−1, 15] → 0.5·[−1,15] + 0.5·[0,10] = [−0.5, 12.5]
    expect(r).toEqual({ min: -0.5, max: 12.5 });
    expect(calibrateMovingAverage([], 0.9)).toEqual({ min: 0, max: 0 });
  });
});
