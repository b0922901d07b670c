import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { writeArtifact } from './artifact.js';
import { bestIndexBits, INDEX_BITS_CANDIDATES, measureEncodings } from './sizes.js';
import { encodeSection } from './sections.js';
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

describe('bestIndexBits', () => {
  const sectionBytes = (layer: Parameters<typeof bestIndexBits>[0], indexBits: number) =>
    encodeSection({ ...layer, encoding: { ...layer.encoding, indexBits } }).parts.reduce((a, [, p]) => a + p.length, 0);
  const layerWith = (mask: Uint8Array, huffman: boolean) => {
    const values = Float32Array.from(mask, (m, i) => (m ? 1 + (i % 7) : 0));
    return {
      name: 'w',
      shape: [mask.length],
      encoding: { kind: 'sparse-float32' as const, values, mask, indexBits: 5, huffman },
    };
  };

  it('picks wide indices for long gaps and narrow ones for short gaps', () => {
    // One weight in 300 kept (gaps of 300: a 5-bit index needs 9 fillers per entry).
    const sparse = Uint8Array.from({ length: 30_000 }, (_, i) => (i % 300 === 0 ? 1 : 0));
    expect(bestIndexBits(layerWith(sparse, false))).toBe(9);
    // Every other weight kept: gaps of 2 fit in 1 bit, 2 is the narrowest candidate.
    const dense = Uint8Array.from({ length: 30_000 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    expect(bestIndexBits(layerWith(dense, false))).toBe(2);
  });

  it('is never larger than any candidate, Huffman on or off, on random masks', () => {
    const rng = createRng(11);
    for (const keep of [0.02, 0.08, 0.3]) {
      for (const huffman of [false, true]) {
        const layer = layerWith(randomMask(rng, 20_000, keep), huffman);
        const chosen = sectionBytes(layer, bestIndexBits(layer));
        for (const bits of INDEX_BITS_CANDIDATES) expect(chosen).toBeLessThanOrEqual(sectionBytes(layer, bits));
        expect(chosen).toBeLessThan(sectionBytes(layer, 16));
      }
    }
  });
});
