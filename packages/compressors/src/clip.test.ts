import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { clipImpl } from './index.js';

const f32 = (a: number[]) => new Float32Array(a);

describe('clipImpl', () => {
  it('saturates to sign(w)·T by default', () => {
    const input = f32([0.5, -2, 1.5, -0.1]);
    const r = clipImpl(input, 1);
    expect(r.values).toEqual(f32([0.5, -1, 1, -0.1]));
    expect(r.changed).toBe(2);
    expect(input).toEqual(f32([0.5, -2, 1.5, -0.1])); // input untouched
    expect(r.values).not.toBe(input);
  });

  it('sets clipped weights to exactly `value` when given, whatever their sign', () => {
    const r = clipImpl(f32([0.5, -2, 1.5, -0.1, 3]), 1, 0.25);
    expect(r.values).toEqual(f32([0.5, 0.25, 0.25, -0.1, 0.25]));
    expect(r.changed).toBe(3);
    expect(clipImpl(f32([-2, 2]), 1, 0).values).toEqual(f32([0, 0]));
  });

  it('leaves |w| == T alone and clips infinities', () => {
    const r = clipImpl(f32([1, -1, 0.5]), 1);
    expect(r.values).toEqual(f32([1, -1, 0.5]));
    expect(r.changed).toBe(0);
    const inf = clipImpl(f32([Infinity, -Infinity]), 0.5);
    expect(inf.values).toEqual(f32([0.5, -0.5]));
    expect(inf.changed).toBe(2);
  });

  it('does not count a weight equal to fround(T) as changed', () => {
    const t = 1.1; // fround(1.1) > 1.1
    const r = clipImpl(f32([t, 2]), t);
    expect(r.changed).toBe(1);
    expect(r.values).toEqual(f32([t, t]));
  });

  it('rejects a threshold that is not finite and > 0, and a non-finite value', () => {
    for (const t of [0, -1, NaN, Infinity]) expect(() => clipImpl(f32([1]), t)).toThrow(RangeError);
    expect(() => clipImpl(f32([1]), 1, NaN)).toThrow(/value/);
  });

  it('property: max |out| <= T and changed counts exactly the |w| > T', () => {
    const rng = createRng(7);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.int(500);
      const v = new Float32Array(n).map(() => rng.normal() * 2);
      const T = 0.05 + rng.next() * 3;
      const r = clipImpl(v, T);
      let maxAbs = 0;
      for (const x of r.values) maxAbs = Math.max(maxAbs, Math.abs(x));
      expect(maxAbs).toBeLessThanOrEqual(Math.fround(T));
      expect(r.changed).toBe(v.filter((x) => Math.abs(x) > Math.fround(T)).length);
      for (let i = 0; i < n; i++) {
        if (Math.abs(v[i]) <= Math.fround(T)) expect(r.values[i]).toBe(v[i]);
        else expect(Math.sign(r.values[i])).toBe(Math.sign(v[i]));
      }
    }
  });
});
