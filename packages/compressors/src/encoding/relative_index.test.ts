import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { decodeRelativeIndices, encodeRelativeIndices } from './relative_index.js';

function maskOf(n: number, positions: number[]): Uint8Array {
  const m = new Uint8Array(n);
  for (const p of positions) m[p] = 1;
  return m;
}

describe('relative indices', () => {
  it("Deep Compression's Figure 2: 3-bit indices, a gap of 11 needs one filler", () => {
    // Kept weights at 1, 4 and 15. 4 → 15 is a gap of 11 > 8 = 2^3: a zero filler at 12, then 3.
    const r = encodeRelativeIndices(maskOf(16, [1, 4, 15]), 3);
    expect(Array.from(r.positions)).toEqual([1, 4, 12, 15]);
    expect(Array.from(r.isFiller)).toEqual([0, 0, 1, 0]);
    expect(Array.from(r.gaps)).toEqual([1, 2, 7, 2]); // stored g − 1: gaps 2, 3, 8, 3
    expect(Array.from(decodeRelativeIndices(r.gaps))).toEqual([1, 4, 12, 15]);
  });

  it('a gap of exactly 2^indexBits needs no filler; one more needs one; position 0 is a gap of 1', () => {
    expect(Array.from(encodeRelativeIndices(maskOf(9, [0, 8]), 3).gaps)).toEqual([0, 7]);
    const r = encodeRelativeIndices(maskOf(10, [0, 9]), 3);
    expect(Array.from(r.gaps)).toEqual([0, 7, 0]);
    expect(Array.from(r.isFiller)).toEqual([0, 1, 0]);
    // From −1 to 20 with 1-bit indices (gaps 1..2): ten fillers at 1, 3, …, 19, then 20.
    const far = encodeRelativeIndices(maskOf(21, [20]), 1);
    expect(Array.from(far.positions)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 20]);
    expect(far.isFiller.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('all-zero mask: no entries; full mask: one entry per element, every gap 1', () => {
    const none = encodeRelativeIndices(new Uint8Array(100), 4);
    expect([none.gaps.length, none.positions.length, none.isFiller.length]).toEqual([0, 0, 0]);
    expect(decodeRelativeIndices(none.gaps).length).toBe(0);
    const all = encodeRelativeIndices(new Uint8Array(100).fill(1), 4);
    expect(all.gaps).toEqual(new Uint32Array(100));
    expect(all.isFiller.every((f) => f === 0)).toBe(true);
    expect(Array.from(all.positions)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('property: random masks and indexBits 1..8 round-trip, fillers sit on zeros, gaps fit', () => {
    const rng = createRng(17);
    for (let t = 0; t < 200; t++) {
      const indexBits = 1 + (t % 8);
      const n = rng.int(3000);
      const density = rng.next() ** 3;
      const mask = new Uint8Array(n).map(() => (rng.next() < density ? 1 + rng.int(255) : 0)); // any nonzero byte keeps
      const r = encodeRelativeIndices(mask, indexBits);
      expect(decodeRelativeIndices(r.gaps)).toEqual(r.positions);
      const kept = Array.from(r.positions).filter((_, e) => !r.isFiller[e]);
      expect(kept).toEqual(Array.from(mask.keys()).filter((i) => mask[i] !== 0));
      for (let e = 0; e < r.gaps.length; e++) {
        expect(r.gaps[e]).toBeLessThan(2 ** indexBits);
        if (r.isFiller[e]) {
          expect(mask[r.positions[e]]).toBe(0);
          expect(r.gaps[e]).toBe(2 ** indexBits - 1);
        }
      }
    }
  });

  it('rejects indexBits outside [1, 31]', () => {
    for (const b of [0, 32, 2.5, NaN]) {
      expect(() => encodeRelativeIndices(new Uint8Array(3), b)).toThrow(/indexBits must be an integer in \[1, 31\]/);
    }
  });
});
