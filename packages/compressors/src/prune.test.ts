import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { pruneByMagnitudeImpl, pruneGlobalByMagnitude } from './index.js';

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

describe('pruneGlobalByMagnitude', () => {
  it('one threshold over all tensors: keeps round(r·N) of the total', () => {
    const a = f32([0.1, -0.9, 0.3]);
    const b = f32([0.8, -0.2, 0.7, 0.05]);
    // 7 weights, r = 0.4 → 3 kept: 0.9, 0.8, 0.7 — none of them from a's small ones
    const r = pruneGlobalByMagnitude([a, b], 0.4);
    expect(r.kept).toBe(3);
    expect(r.values).toEqual([f32([0, -0.9, 0]), f32([0.8, 0, 0.7, 0])]);
    expect(r.masks).toEqual([u8([0, 1, 0]), u8([1, 0, 1, 0])]);
  });

  it('ties: the lower tensor index, then the lower element index, is kept', () => {
    const r = pruneGlobalByMagnitude([f32([0.5, 0.1]), f32([-0.5, 0.5]), f32([1])], 0.6);
    // 5 weights → 3 kept: 1 outright, then two of the three 0.5s in (tensor, element) order
    expect(r.values).toEqual([f32([0.5, 0]), f32([-0.5, 0]), f32([1])]);
  });

  it('existing masks: pruned weights stay pruned (whatever their value), retention counts from the total', () => {
    const w = [f32([0.9, 0.1, 0.3]), f32([0.5, 0.7])];
    const prior = [u8([0, 1, 1]), u8([1, 1])];
    // 5 weights, r = 0.6 → 3 kept among the alive [0.1, 0.3, 0.5, 0.7]: 0.7, 0.5, 0.3; 0.9 is not revived
    const r = pruneGlobalByMagnitude(w, 0.6, prior);
    expect(r.values).toEqual([f32([0, 0, 0.3]), f32([0.5, 0.7])]);
    expect(r.kept).toBe(3);
    // Asking for more than is alive keeps all alive weights and nothing else.
    const all = pruneGlobalByMagnitude(w, 1, [u8([0, 1, 1]), undefined]);
    expect(all.masks).toEqual([u8([0, 1, 1]), u8([1, 1])]);
    expect(all.kept).toBe(4);
  });

  it('rejects bad retention, NaN, and masks that do not fit', () => {
    for (const r of [0, 1.01, NaN])
      expect(() => pruneGlobalByMagnitude([f32([1])], r)).toThrow(/retention must be in \(0, 1\]/);
    expect(() => pruneGlobalByMagnitude([f32([1]), f32([NaN])], 0.5)).toThrow(/NaN weight at index 0 of tensor 1/);
    expect(() => pruneGlobalByMagnitude([f32([1])], 0.5, [])).toThrow(/existingMask has 0 entries for 1 tensors/);
    expect(() => pruneGlobalByMagnitude([f32([1])], 0.5, [u8([1, 1])])).toThrow(/existingMask\[0\] has 2 elements/);
  });

  it('property: one tensor equals pruneByMagnitudeImpl; global keeps round(r·N) with one cut', () => {
    const rng = createRng(8);
    for (let trial = 0; trial < 60; trial++) {
      const count = 1 + rng.int(4);
      const coarse = rng.next() < 0.5;
      const ts = Array.from({ length: count }, () =>
        new Float32Array(rng.int(500)).map(() => (coarse ? rng.int(5) - 2 : rng.normal())),
      );
      const r = Math.max(1e-3, rng.next());
      const single = pruneGlobalByMagnitude([ts[0]], r);
      const ref = pruneByMagnitudeImpl(ts[0], r);
      expect(single.values[0]).toEqual(ref.values);
      expect(single.masks[0]).toEqual(ref.mask);
      const g = pruneGlobalByMagnitude(ts, r);
      const n = ts.reduce((s, t) => s + t.length, 0);
      expect(g.kept).toBe(Math.round(r * n));
      expect(g.masks.reduce((s, m) => s + m.reduce((a, b) => a + b, 0), 0)).toBe(g.kept);
      let minKept = Infinity;
      let maxPruned = -Infinity;
      ts.forEach((t, i) =>
        t.forEach((w, j) => {
          if (g.masks[i][j]) minKept = Math.min(minKept, Math.abs(w));
          else maxPruned = Math.max(maxPruned, Math.abs(w));
        }),
      );
      expect(minKept >= maxPruned).toBe(true);
      // Pruning again with the result as the existing mask at the same retention changes nothing.
      const again = pruneGlobalByMagnitude(ts, r, g.masks);
      expect(again.masks).toEqual(g.masks);
    }
  });
});
