import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { selectUnitsByNorm, unitNorms } from './index.js';

const f32 = (a: number[]) => new Float32Array(a);

describe('unitNorms', () => {
  // dense kernel [in 3, out 2]: unit 0's weights are column 0 = [3, 0, -4], unit 1's [1, -2, 2]
  const dense = f32([3, 1, 0, -2, -4, 2]);

  it('L1 and L2 of every output unit (last axis) of a dense kernel', () => {
    expect(Array.from(unitNorms(dense, [3, 2], -1, 'l1'))).toEqual([7, 5]);
    expect(Array.from(unitNorms(dense, [3, 2], -1, 'l2'))).toEqual([5, 3]);
    expect(Array.from(unitNorms(dense, [3, 2], 1, 'l2'))).toEqual([5, 3]);
  });

  it('any axis: axis 0 gives the norm of each input row', () => {
    expect(Array.from(unitNorms(dense, [3, 2], 0, 'l1'))).toEqual([4, 2, 6]);
  });

  it('conv filters: the last axis of [h, w, in, out] sums over h, w and in', () => {
    // [1, 2, 1, 2]: filter 0 = elements 0 and 2 = [1, 2], filter 1 = elements 1 and 3 = [-2, 2]
    const conv = f32([1, -2, 2, 2]);
    expect(Array.from(unitNorms(conv, [1, 2, 1, 2], -1, 'l1'))).toEqual([3, 4]);
    expect(Array.from(unitNorms(conv, [1, 2, 1, 2], -1, 'l2'))).toEqual([Math.sqrt(5), Math.sqrt(8)]);
  });

  it('a depthwise kernel [kh, kw, C, M]: span 2 from axis 2 gives its C·M output channels (i mod C·M)', () => {
    // [2, 1, 2, 2]: element i belongs to channel i mod 4
    const dw = f32([1, -2, 3, 0, -1, 2, 0, 4]);
    expect(Array.from(unitNorms(dw, [2, 1, 2, 2], 2, 'l1', 2))).toEqual([2, 4, 3, 4]);
    expect(Array.from(unitNorms(dw, [2, 1, 2, 2], -2, 'l2', 2))).toEqual([Math.sqrt(2), Math.sqrt(8), 3, 4]);
    // One axis: the C input channels, each summing its M filters.
    expect(Array.from(unitNorms(dw, [2, 1, 2, 2], 2, 'l1'))).toEqual([6, 7]);
  });

  it('property: per-unit norms add up to the tensor norm, whatever the axis', () => {
    const rng = createRng(4);
    for (let trial = 0; trial < 30; trial++) {
      const shape = Array.from({ length: 1 + rng.int(4) }, () => 1 + rng.int(5));
      const w = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => rng.normal());
      const l1 = w.reduce((s, x) => s + Math.abs(x), 0);
      const axis = rng.int(shape.length);
      const n = unitNorms(w, shape, axis, 'l1');
      expect(n.length).toBe(shape[axis]);
      expect(n.reduce((s, x) => s + x, 0)).toBeCloseTo(l1, 9);
    }
  });

  it('rejects bad axes, shapes and norms', () => {
    expect(() => unitNorms(dense, [3, 2], 2, 'l2')).toThrow(/channelAxis must be null or an integer in \[-2, 1\]/);
    expect(() => unitNorms(dense, [4, 2], -1, 'l2')).toThrow(/shape \[4, 2\] has 8 elements but values has 6/);
    expect(() => unitNorms(dense, [3, 2], -1, 'l3' as 'l2')).toThrow(/norm must be 'l1' or 'l2', got 'l3'/);
  });
});

describe('selectUnitsByNorm', () => {
  it('the round(r·count) largest norms, returned in ascending index order', () => {
    expect(Array.from(selectUnitsByNorm([0.5, 3, 1, 2, 0.1], 0.6))).toEqual([1, 2, 3]);
    expect(Array.from(selectUnitsByNorm([0.5, 3, 1, 2, 0.1], 1))).toEqual([0, 1, 2, 3, 4]);
  });

  it('ties keep the lower index; at least one unit survives', () => {
    expect(Array.from(selectUnitsByNorm([1, 2, 2, 2], 0.5))).toEqual([1, 2]);
    expect(Array.from(selectUnitsByNorm([1, 2, 2, 2], 0.01))).toEqual([1]);
    expect(Array.from(selectUnitsByNorm([0, 0, 0], 0.1))).toEqual([0]);
    expect(selectUnitsByNorm([], 0.5).length).toBe(0);
  });

  it('rejects bad retention and NaN norms', () => {
    for (const r of [0, -1, 1.5, NaN]) expect(() => selectUnitsByNorm([1], r)).toThrow(/retention must be in \(0, 1\]/);
    expect(() => selectUnitsByNorm([1, NaN], 0.5)).toThrow(/NaN norm at index 1/);
  });
});
