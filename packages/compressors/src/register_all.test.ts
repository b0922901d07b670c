import { describe, expect, it } from 'vitest';
import type { WeightTensor } from '@squash/core';
import {
  clipWeightsConfig,
  compressorRegistry,
  pruneUnitsConfig,
  pruneWeightsConfig,
  quantizeActivationsConfig,
  quantizeWeightsConfig,
} from './index.js';

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
  it('registers exactly the five compressors, of three kinds', () => {
    expect(compressorRegistry.names().sort()).toEqual([
      'clip-weights',
      'prune-units',
      'prune-weights',
      'quantize-activations',
      'quantize-weights',
    ]);
    expect(
      compressorRegistry
        .names()
        .sort()
        .map((n) => compressorRegistry.get(n).kind),
    ).toEqual(['weights', 'structure', 'weights', 'activations', 'weights']);
    expect(() => compressorRegistry.get('prune')).toThrow(/known: .*prune-weights/);
  });

  it("registers each scheme file's config object itself, in the listed order", () => {
    expect(compressorRegistry.names().map((n) => compressorRegistry.get(n))).toEqual([
      clipWeightsConfig,
      quantizeWeightsConfig,
      pruneWeightsConfig,
      quantizeActivationsConfig,
      pruneUnitsConfig,
    ]);
    expect(compressorRegistry.get(clipWeightsConfig.name)).toBe(clipWeightsConfig);
  });

  it('clip-weights: new tensors, same names and shapes, summed stats', () => {
    const input = tensors();
    const { tensors: out, stats } = weights('clip-weights').apply(input, { threshold: 1 });
    expect(out.map((t) => [t.name, t.shape])).toEqual([
      ['dense/kernel', [2, 2]],
      ['dense/bias', [2]],
    ]);
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

  it('quantize-weights: scheme-specific bits, named in the error', () => {
    const q = weights('quantize-weights');
    expect(q.validate({ bits: 4, scheme: 'binary' }, 's').map((e) => [e.location?.path, e.message])).toEqual([
      ['s.bits', "bits must be 1 for scheme 'binary', got 4"],
    ]);
    expect(q.validate({ bits: 3, scheme: 'ternary' }, 's')[0].message).toBe(
      "bits must be 2 for scheme 'ternary', got 3",
    );
    expect(q.validate({ bits: 1, scheme: 'pow2' }, 's')[0].message).toBe(
      "bits must be in [2, 16] for scheme 'pow2', got 1",
    );
    for (const [scheme, bits] of [
      ['asymmetric', 1],
      ['kmeans', 1],
      ['binary', 1],
      ['ternary', 2],
      ['pow2', 16],
    ] as const) {
      expect(q.validate({ bits, scheme, granularity: 'channel' }, 's')).toEqual([]);
    }
    // A bad scheme is reported once, not also as a bits problem.
    expect(q.validate({ bits: 4, scheme: 'binry' }, 's').map((e) => e.location?.path)).toEqual(['s.scheme']);
    expect(() => q.apply(tensors(), { bits: 4, scheme: 'binary' })).toThrow(/bits must be 1 for scheme 'binary'/);
  });

  it('quantize-weights: schemes, per-channel codebooks, masks from an earlier stage, quantized tensors', () => {
    const q = weights('quantize-weights');
    // per channel (columns [0.5, 1.5] and [-2, -0.1]), 2-bit symmetric: scales 1.5 and 2
    const ch = q.apply(tensors(), { bits: 2, granularity: 'channel' });
    expect(ch.tensors[0].values).toEqual(f32([0, -2, 1.5, 0]));
    expect(ch.quantized!.map((t) => t.channelAxis)).toEqual([1, null]); // the rank-1 bias: per tensor
    expect(Array.from(ch.quantized![0].params)).toEqual([1.5, 2]);
    // A tensor that says where its channels lie: a depthwise kernel [1, 1, 2, 2], channels i mod 4.
    const dw = { name: 'dw/depthwise_kernel', shape: [1, 1, 2, 2], values: f32([1, -2, 4, 0.5]) };
    const dq = q.apply([{ ...dw, channelAxis: 2, channelSpan: 2 }], { bits: 2, granularity: 'channel' });
    expect(Array.from(dq.quantized![0].params)).toEqual([1, 2, 4, 0.5]);
    expect(dq.tensors[0]).toMatchObject({ channelAxis: 2, channelSpan: 2 });
    expect(Array.from(q.apply([dw], { bits: 2, granularity: 'channel' }).quantized![0].params)).toEqual([4, 2]);
    // binary under a mask: pruned weights stay 0, the zero symbol costs a second bit
    const masks = [new Uint8Array([1, 1, 1, 0]), undefined];
    const input = tensors();
    input[0].values[3] = 0;
    const b = q.apply(input, { bits: 1, scheme: 'binary' }, { masks });
    const a = Math.fround((0.5 + 2 + 1.5) / 3);
    expect(b.tensors[0].values).toEqual(f32([a, -a, a, 0]));
    expect(b.stats).toEqual({ weightsChanged: 5, weightsKept: 5, weightsTotal: 6, bits: 2 });
    expect(b.quantized!.map((t) => [t.levels, t.bits])).toEqual([
      [3, 2],
      [2, 1],
    ]);
  });

  it('prune-weights: global scope, masks out, earlier masks respected', () => {
    const p = weights('prune-weights');
    // all six magnitudes [0.5, 2, 1.5, 0.1, 0, 0.75]: global r = 0.5 keeps 2, 1.5, 0.75
    const g = p.apply(tensors(), { retention: 0.5, scope: 'global' });
    expect(g.tensors.map((t) => Array.from(t.values))).toEqual([
      [0, -2, 1.5, 0],
      [0, 0.75],
    ]);
    expect(g.masks).toEqual([new Uint8Array([0, 1, 1, 0]), new Uint8Array([0, 1])]);
    expect(g.stats).toEqual({ weightsChanged: 2, weightsKept: 3, weightsTotal: 6 });
    // -2 was pruned before: it stays pruned, and 0.5 takes its place
    const masks = [new Uint8Array([1, 0, 1, 1]), undefined];
    const again = p.apply(tensors(), { retention: 0.5, scope: 'global' }, { masks });
    expect(again.tensors.map((t) => Array.from(t.values))).toEqual([
      [0.5, 0, 1.5, 0],
      [0, 0.75],
    ]);
    const layer = p.apply(tensors(), { retention: 0.5 }, { masks });
    expect(layer.tensors.map((t) => Array.from(t.values))).toEqual([
      [0.5, 0, 1.5, 0],
      [0, 0.75],
    ]);
    expect(layer.masks![0]).toEqual(new Uint8Array([1, 0, 1, 0]));
  });

  it('prune-units: a structure compressor, validated here and applied by the trainer', () => {
    const c = compressorRegistry.get('prune-units');
    expect(c.kind).toBe('structure');
    expect('apply' in c).toBe(false);
    expect(c.validate({ retention: 0.5 }, 's')).toEqual([]);
    expect(c.validate({ retention: 0.5, norm: 'l1' }, 's')).toEqual([]);
    expect(c.validate({ retention: 0, norm: 'l3' }, 's').map((e) => e.message)).toEqual([
      'retention must be in (0, 1], got 0',
      "norm must be one of: l2, l1, got 'l3' (string); did you mean 'l2'?",
    ]);
  });

  it('quantize-activations: calibrate, quantize in place, bits', () => {
    const c = compressorRegistry.get('quantize-activations');
    if (c.kind !== 'activations') throw new Error('expected an activation compressor');
    const x = f32([0.4, 0, 2.6, 3]);
    const range = c.calibrate([x], { bits: 2 });
    expect(range).toEqual({ min: 0, max: 3 });
    c.quantize(x, range, { bits: 2 });
    expect(x).toEqual(f32([0, 0, 3, 3]));
    expect(c.bits({ bits: 2 })).toBe(2);
    expect(() => c.bits({ bits: 0 })).toThrow(/bits must be in \[1, 16\], got 0/);
  });
});
