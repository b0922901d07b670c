import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { quantizeSymmetricImpl, roundHalfAway } from './index.js';
import { roundHalfAwayInt } from './rounding.js';

const f32 = (a: number[]) => new Float32Array(a);
const i32 = (a: number[]) => new Int32Array(a);

describe('roundHalfAway', () => {
  it('rounds halves away from zero, symmetrically', () => {
    expect([2.5, -2.5, 1.5, -1.5, 0.5, -0.5, 0.49999999999999994, 2.4, -2.6].map(roundHalfAway)).toEqual([
      3, -3, 2, -2, 1, -1, 0, 2, -3,
    ]);
  });
  it('the fast int32 variant agrees exactly, halves and near-halves included', () => {
    const edge = [
      2.5,
      -2.5,
      0.5,
      -0.5,
      0.49999999999999994,
      -0.49999999999999994,
      1.5 - 2 ** -52,
      -(1.5 - 2 ** -52),
      0,
      -0,
      65535.5,
      -65535.5,
      2 ** 30 + 0.5,
    ];
    const rng = createRng(1);
    const xs = [
      ...edge,
      ...Array.from({ length: 20000 }, (_, i) => {
        const x = (rng.next() - 0.5) * 70000;
        return i % 2 ? Math.round(x * 2) / 2 : x; // every other one an exact half
      }),
    ];
    for (const x of xs) expect(roundHalfAwayInt(x) + 0, String(x)).toBe(roundHalfAway(x) + 0);
    expect(Object.is(roundHalfAwayInt(-0.3), 0)).toBe(true); // no −0 codes
  });
});

describe('quantizeSymmetricImpl', () => {
  it('2 bits: levels {-s, 0, s} with s = max|w|', () => {
    const r = quantizeSymmetricImpl(f32([0.9, -0.3, 0.1, -0.9]), 2);
    expect(r.scale).toBeCloseTo(0.9, 6);
    expect(r.codes).toEqual(i32([1, 0, 0, -1]));
    expect(r.values).toEqual(f32([0.9, 0, 0, -0.9]));
  });

  it('3 bits: qmax 3, halves rounded away from zero', () => {
    // max|w| = 0.75 → scale 0.25; w/scale = [3, -1.5, 1.5, 0.75, -2.25, -0.25, 1.25]
    const r = quantizeSymmetricImpl(f32([0.75, -0.375, 0.375, 0.1875, -0.5625, -0.0625, 0.3125]), 3);
    expect(r.scale).toBe(0.25);
    expect(r.codes).toEqual(i32([3, -2, 2, 1, -2, 0, 1]));
    expect(r.values).toEqual(f32([0.75, -0.5, 0.5, 0.25, -0.5, 0, 0.25]));
  });

  it('8 bits: qmax 127', () => {
    const r = quantizeSymmetricImpl(f32([127, -3.5, 2.5, 0.49, -126.6, -127]), 8);
    expect(r.scale).toBe(1);
    expect(r.codes).toEqual(i32([127, -4, 3, 0, -127, -127]));
    expect(r.values).toEqual(f32([127, -4, 3, 0, -127, -127]));
  });

  it('the article formula would zero these weights; ours keeps them distinct', () => {
    const w = f32([0.02, -0.01, 0.005]);
    const article = Array.from(w, (x) => Math.round(x / 2 ** 7) * 2 ** 7);
    expect(article.every((x) => x === 0)).toBe(true);
    const r = quantizeSymmetricImpl(w, 8);
    expect(r.codes).toEqual(i32([127, -64, 32])); // 0.01/(0.02/127) = 63.5 → -64
  });

  it('all-zero and empty tensors: scale 0, codes 0, no NaN', () => {
    const r = quantizeSymmetricImpl(f32([0, -0, 0]), 4);
    expect(r.scale).toBe(0);
    expect(r.codes).toEqual(i32([0, 0, 0]));
    expect(Array.from(r.values).every((x) => x === 0)).toBe(true);
    expect(quantizeSymmetricImpl(f32([]), 8)).toEqual({ values: f32([]), scale: 0, codes: i32([]) });
  });

  it('rejects bits outside [2, 16] or non-integer, and non-finite weights', () => {
    for (const b of [1, 17, 2.5, NaN, 0]) expect(() => quantizeSymmetricImpl(f32([1]), b)).toThrow(RangeError);
    expect(() => quantizeSymmetricImpl(f32([1, NaN]), 8)).toThrow(/non-finite/);
    expect(() => quantizeSymmetricImpl(f32([Infinity]), 8)).toThrow(/non-finite/);
  });

  it('does not modify its input', () => {
    const w = f32([0.3, -0.7]);
    quantizeSymmetricImpl(w, 2);
    expect(w).toEqual(f32([0.3, -0.7]));
  });

  it('property: at most 2^b − 1 distinct values, error <= scale/2, codes in range, symmetric', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 60; trial++) {
      const bits = 2 + rng.int(7);
      const n = 1 + rng.int(2000);
      const w = new Float32Array(n).map(() => rng.normal() * 0.1);
      const r = quantizeSymmetricImpl(w, bits);
      const qmax = 2 ** (bits - 1) - 1;
      expect(new Set(r.values).size).toBeLessThanOrEqual(2 ** bits - 1);
      let maxErr = 0;
      for (let i = 0; i < n; i++) {
        expect(Math.abs(r.codes[i])).toBeLessThanOrEqual(qmax);
        expect(r.values[i]).toBe(Math.fround(r.codes[i] * r.scale));
        maxErr = Math.max(maxErr, Math.abs(r.values[i] - w[i]));
      }
      // float32 storage of code·scale adds at most half an ulp of the largest value.
      expect(maxErr).toBeLessThanOrEqual(r.scale / 2 + qmax * r.scale * 2 ** -24);
      const neg = quantizeSymmetricImpl(
        w.map((x) => -x),
        bits,
      );
      expect(Array.from(neg.codes)).toEqual(Array.from(r.codes, (c) => (c === 0 ? 0 : -c)));
      // The largest weight maps to ±qmax: the grid spans the tensor's range.
      expect(Math.max(...Array.from(r.codes, Math.abs))).toBe(qmax);
    }
  });
});
