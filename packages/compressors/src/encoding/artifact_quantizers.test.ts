/**
 * The artifact against the real quantizers (quant/): every scheme's output must load back
 * bit-exactly, and every scheme but k-means must get the compact params storage — which proves
 * codebook.ts derives codebooks exactly as quant/common.ts's codebookFromParams builds them.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { pruneByMagnitudeImpl } from '../prune.js';
import { dequantize, quantizeTensor, SCHEME_BITS } from '../quant/index.js';
import { QUANT_SCHEMES } from '../quantized_tensor.js';
import { type ArtifactLayer, readArtifact, writeArtifact } from './artifact.js';
import { firstBitDifference, headerOf } from './__tests__/fixtures.js';

describe('artifact × real quantizers', () => {
  const rng = createRng(77);
  const shape = [64, 24];
  const weights = new Float32Array(64 * 24).map(() => rng.normal() * 0.05);
  const { mask } = pruneByMagnitudeImpl(weights, 0.2);

  for (const scheme of QUANT_SCHEMES) {
    it(`${scheme}: dense and pruned, per tensor and per channel, Huffman off and on`, () => {
      const bits = Math.min(SCHEME_BITS[scheme].max, Math.max(SCHEME_BITS[scheme].min, 4));
      const layers: ArtifactLayer[] = [];
      const expected: Float32Array[] = [];
      for (const channelAxis of [null, -1]) {
        for (const pruned of [false, true]) {
          const q = quantizeTensor(weights, shape, { scheme, bits, channelAxis, ...(pruned ? { mask } : {}) });
          for (const huffman of [false, true]) {
            layers.push({
              name: `${channelAxis}/${pruned}/${huffman}`,
              shape,
              encoding: pruned
                ? { kind: 'quantized', q, mask, indexBits: 4, huffman }
                : { kind: 'quantized', q, huffman },
            });
            expected.push(dequantize(q));
          }
        }
      }
      const { bytes, headerBytes } = writeArtifact({ scheme }, layers);
      const read = readArtifact(bytes);
      read.tensors.forEach((t, i) => expect(firstBitDifference(t.values, expected[i]), t.name).toBe(-1));
      const header = headerOf(bytes, headerBytes);
      for (const l of header.layers) expect(l.codebook, l.name).toBe(scheme === 'kmeans' ? 'full' : 'params');
    });
  }
});
