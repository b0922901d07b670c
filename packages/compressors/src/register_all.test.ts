import { describe, expect, it } from 'vitest';
import type { WeightTensor } from '@squash/core';
import { compressorRegistry } from './index.js';

const f32 = (a: number[]) => new Float32Array(a);
const weights = (name: string) => {
  const c = compressorRegistry.get(name);
  if (c.kind !== 'weights') throw new Error(`${name} is not a weight compressor`);
  return c;
};
const tensors = (): WeightTensor[] => [
  { name: 'dense/kernel', shape: [2, 2], values: f32([0.5, -2, 1.5, -0.1]) },
  { name: 'dense/bias', shape: [2], values: f32([0, 0.75]) },
];

describe('registered compressors', () => {
  it('registers exactly the four schemes', () => {
    expect(compressorRegistry.names().sort()).toEqual(
      ['clip-weights', 'prune-weights', 'quantize-activations', 'quantize-weights'],
    );
    expect(() => compressorRegistry.get('prune')).toThrow(/known: .*prune-weights/);
  });

  it('clip-weights: new tensors, same names and shapes, summed stats', () => {
    const input = tensors();
    const { tensors: out, stats } = weights('clip-weights').apply(input, { threshold: 1 });
    expect(out.map((t) => [t.name, t.shape])).toEqual([['dense/kernel', [2, 2]], ['dense/bias', [2]]]);
    expect(out[0].values).toEqual(f32([0.5, -1, 1, -0.1]));
    expect(out[1].values).toEqual(f32([0, 0.75]));
    expect(stats).toEqual({ weightsChanged: 2, weightsKept: 6, weightsTotal: 6 });
    expect(out[0]).not.toBe(input[0]);
    expect(out[0].shape).not.toBe(input[0].shape);
    expect(input[0].values).toEqual(f32([0.5, -2, 1.5, -0.1]));
    const v = weights('clip-weights').apply(tensors(), { threshold: 1, value: 0 });
    expect(v.tensors[0].values).toEqual(f32([0.5, 0, 0, -0.1]));
  });

  it('quantize-weights: per-tensor scale, changed = values that moved, bits reported', () => {
    // kernel: max 2, 2 bits → {-2, 0, 2}: [0, -2, 2, 0]; bias: max 0.75 → [0, 0.75] unchanged
    const { tensors: out, stats } = weights('quantize-weights').apply(tensors(), { bits: 2 });
    expect(out[0].values).toEqual(f32([0, -2, 2, 0]));
    expect(out[1].values).toEqual(f32([0, 0.75]));
    expect(stats).toEqual({ weightsChanged: 3, weightsKept: 6, weightsTotal: 6, bits: 2 });
  });

  it('prune-weights: per-tensor retention; zeros already present are not counted as pruned', () => {
    // kernel keeps 2 of 4: -2, 1.5; bias keeps 1 of 2: 0.75 (the 0 was already zero)
    const { tensors: out, stats } = weights('prune-weights').apply(tensors(), { retention: 0.5 });
    expect(out[0].values).toEqual(f32([0, -2, 1.5, 0]));
    expect(out[1].values).toEqual(f32([0, 0.75]));
    expect(stats).toEqual({ weightsChanged: 2, weightsKept: 3, weightsTotal: 6 });
  });

  it('quantize-activations: calibrate, quantize in place, bits', () => {
    const c = compressorRegistry.get('quantize-activations');
    if (c.kind !== 'activations') throw new Error('expected an activation compressor');
    const x = f32([0.4, 0, 2.6, 3]);
    const range = c.calibrate(x, { bits: 2 });
    expect(range).toEqual({ min: 0, max: 3 });
    c.quantize(x, range, { bits: 2 });
    expect(x).toEqual(f32([0, 0, 3, 3]));
    expect(c.bits({ bits: 2 })).toBe(2);
    expect(() => c.bits({ bits: 0 })).toThrow(/bits must be in \[1, 16\], got 0/);
  });
});
