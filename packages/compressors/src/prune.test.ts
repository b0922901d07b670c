import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { pruneByMagnitudeImpl } from './index.js';

const f32 = (a: number[]) => new Float32Array(a);
const u8 = (a: number[]) => new Uint8Array(a);

describe('pruneByMagnitudeImpl', () => {
  it('keeps the round(r·n) largest magnitudes', () => {
    const r = pruneByMagnitudeImpl(f32([0.1, -0.5, 0.3, -0.2, 0.4]), 0.4);
    expect(r.values).toEqual(f32([0, -0.5, 0, 0, 0.4]));
    expect(r.mask).toEqual(u8([0, 1, 0, 0, 1]));
    expect(r.kept).toBe(2);
  });

  it('breaks ties by keeping the lower index', () => {
    const w = f32([0.5, -0.5, 0.5, 0.1, -0.5]);
    expect(pruneByMagnitudeImpl(w, 0.4).values).toEqual(f32([0.5, -0.5, 0, 0, 0]));
    expect(pruneByMagnitudeImpl(w, 0.6).values).toEqual(f32([0.5, -0.5, 0.5, 0, 0]));
    // The tie sits at the cut: 0.3 is kept outright, one of the three 0.2s fills the last slot.
    const t = pruneByMagnitudeImpl(f32([0.2, 0.3, 0.2, 0.2]), 0.5);
    expect(t.values).toEqual(f32([0.2, 0.3, 0, 0]));
    expect(t.mask).toEqual(u8([1, 1, 0, 0]));
  });

  it('r = 1 keeps everything, zeros included', () => {
    const r = pruneByMagnitudeImpl(f32([0, -1, 0.5]), 1);
    expect(r.values).toEqual(f32([0, -1, 0.5]));
    expect(r.mask).toEqual(u8([1, 1, 1]));
    expect(r.kept).toBe(3);
  });

  it('rounds r·n half up and may keep nothing of a tiny tensor', () => {
    expect(pruneByMagnitudeImpl(f32([1, 2, 3, 4, 5]), 0.5).values).toEqual(f32([0, 0, 3, 4, 5]));
    const none = pruneByMagnitudeImpl(f32([1, 2, 3]), 0.1);
    expect(none.kept).toBe(0);
    expect(none.values).toEqual(f32([0, 0, 0]));
  });

  it('the article formula (1 − r)·W removes nothing', () => {
    const w = f32([0.1, -0.5, 0.3]);
    expect(Array.from(w, (x) => (1 - 0.5) * x).filter((x) => x === 0)).toHaveLength(0);
    expect(pruneByMagnitudeImpl(w, 0.5).values.filter((x) => x === 0)).toHaveLength(1);
  });

  it('rejects r outside (0, 1] and NaN weights; leaves input untouched', () => {
    for (const r of [0, -0.1, 1.5, NaN]) expect(() => pruneByMagnitudeImpl(f32([1]), r)).toThrow(RangeError);
    expect(() => pruneByMagnitudeImpl(f32([1, NaN]), 0.5)).toThrow(/NaN/);
    const w = f32([3, 1, 2]);
    pruneByMagnitudeImpl(w, 0.3);
    expect(w).toEqual(f32([3, 1, 2]));
  });

  it('property: exactly round(r·n) kept, and every kept |w| >= every pruned |w|', () => {
    const rng = createRng(3);
    for (let trial = 0; trial < 80; trial++) {
      const n = 1 + rng.int(3000);
      // Coarse values force many ties.
      const coarse = rng.next() < 0.5;
      const w = new Float32Array(n).map(() => (coarse ? rng.int(7) - 3 : rng.normal()));
      const r = rng.next() < 0.1 ? 1 : Math.max(1e-3, rng.next());
      const out = pruneByMagnitudeImpl(w, r);
      const k = Math.round(r * n);
      expect(out.kept).toBe(k);
      expect(out.mask.reduce((s, m) => s + m, 0)).toBe(k);
      let minKept = Infinity;
      let maxPruned = -Infinity;
      let lastKeptTie = -1;
      for (let i = 0; i < n; i++) {
        if (out.mask[i]) {
          expect(out.values[i]).toBe(w[i]);
          minKept = Math.min(minKept, Math.abs(w[i]));
        } else {
          expect(out.values[i]).toBe(0);
          maxPruned = Math.max(maxPruned, Math.abs(w[i]));
        }
      }
      expect(minKept >= maxPruned).toBe(true);
      // Among weights with magnitude equal to the cut, kept ones all precede pruned ones.
      if (k > 0 && k < n && minKept === maxPruned) {
        let firstPrunedTie = Infinity;
        for (let i = 0; i < n; i++) {
          if (Math.abs(w[i]) !== minKept) continue;
          if (out.mask[i]) lastKeptTie = i;
          else firstPrunedTie = Math.min(firstPrunedTie, i);
        }
        expect(lastKeptTie).toBeLessThan(firstPrunedTie);
      }
    }
  });
});
