import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { writeArtifact } from './artifact.js';
import { measureEncodings } from './sizes.js';
import { dequantize, makeQuantized, randomMask } from './__tests__/fixtures.js';

describe('measureEncodings', () => {
  const rng = createRng(12);
  const shape = [300, 100];
  const n = 30_000;

  it('pruned + k-means: the staircase dense > sparse > quantized > Huffman, equal to real sections', () => {
    const mask = randomMask(rng, n, 0.1);
    const q = makeQuantized(rng, 'kmeans', shape, null, mask);
    // Skew the kept codes like real k-means clusters (most weights in a few central clusters).
    for (let i = 0; i < n; i++) if (mask[i]) q.codes[i] = 1 + Math.min(30, Math.floor(Math.abs(rng.normal()) * 6));
    const values = dequantize(q, mask);
    const s = measureEncodings({ name: 'fc', shape, values, mask, q, indexBits: 5 });
    expect(s.dense).toBe(4 * n);
    expect(s.sparse).toBeLessThan(s.dense);
    expect(s.quantized).toBeLessThan(s.sparse);
    expect(s.huffman).toBeLessThan(s.quantized);

    const { layers } = writeArtifact(null, [
      { name: 'a', shape, encoding: { kind: 'sparse-float32', values, mask, indexBits: 5 } },
      { name: 'b', shape, encoding: { kind: 'quantized', q, mask, indexBits: 5 } },
      { name: 'c', shape, encoding: { kind: 'quantized', q, mask, indexBits: 5, huffman: true } },
    ]);
    expect(layers.map((l) => l.section)).toEqual([s.sparse, s.quantized, s.huffman]);
  });

  it('without q: quantized = sparse, Huffman codes the gaps only', () => {
    const mask = randomMask(rng, n, 0.05);
    const values = new Float32Array(n).map((_, i) => (mask[i] ? rng.normal() : 0));
    const s = measureEncodings({ name: 'fc', shape, values, mask, indexBits: 6 });
    expect(s.quantized).toBe(s.sparse);
    expect(s.huffman).toBeLessThan(s.sparse);
    const kept = mask.reduce((a, b) => a + b, 0);
    expect(s.huffman).toBeGreaterThan(4 * kept); // the float32 values are untouched
  });

  it('without a mask: sparse keeps the nonzeros; an unpruned layer costs more sparse than dense', () => {
    const values = new Float32Array(n).map(() => rng.normal());
    const s = measureEncodings({ name: 'fc', shape, values, indexBits: 4 });
    expect(s.sparse).toBe(4 * n + n / 2); // every gap is 1: 4 bits of index per weight
    const q = makeQuantized(rng, 'symmetric', shape, -1);
    const sq = measureEncodings({ name: 'fc', shape, values: dequantize(q), q, indexBits: 4 });
    expect(sq.quantized).toBe(100 * 4 + (n * 4) / 8); // dense 4-bit codes + a scale per channel
  });
});
