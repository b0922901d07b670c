/**
 * The per-layer staircase of Deep Compression — dense → pruned → quantized → Huffman — measured as
 * the byte length of real artifact sections (the same `encodeSection` writeArtifact uses), so each
 * step's saving includes its index, codebook and table overhead. Header metadata (~150 bytes of
 * JSON per layer) is not included: it is the same for every step.
 */
import type { QuantizedTensor } from '../quantized_tensor.js';
import { type LayerEncoding, encodeSection } from './sections.js';

export interface EncodingSizes {
  /** 4 bytes per element. */
  dense: number;
  /** sparse-float32: packed relative indices + float32 kept values. */
  sparse: number;
  /** quantized section without Huffman (sparse if there is a mask); = sparse when there is no `q`. */
  quantized: number;
  /** quantized section with Huffman; without `q`, sparse-float32 with Huffman-coded gaps. */
  huffman: number;
}

export interface MeasuredLayer {
  name: string;
  shape: number[];
  /** The dense float32 tensor after compression. */
  values: Float32Array;
  /** Kept positions; without one, the nonzero values are taken as kept for the `sparse` size. */
  mask?: Uint8Array;
  q?: QuantizedTensor;
  indexBits: number;
}

export function measureEncodings(layer: MeasuredLayer): EncodingSizes {
  const { name, shape, values, indexBits } = layer;
  const bytes = (encoding: LayerEncoding): number =>
    encodeSection({ name, shape, encoding }).parts.reduce((a, [, p]) => a + p.length, 0);
  const mask = layer.mask ?? Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
  const sparse = bytes({ kind: 'sparse-float32', values, mask, indexBits });
  if (layer.q === undefined) {
    return {
      dense: 4 * values.length,
      sparse,
      quantized: sparse,
      huffman: bytes({ kind: 'sparse-float32', values, mask, indexBits, huffman: true }),
    };
  }
  const q = layer.q;
  const sparseQ = layer.mask === undefined ? {} : { mask: layer.mask, indexBits };
  return {
    dense: 4 * values.length,
    sparse,
    quantized: bytes({ kind: 'quantized', q, ...sparseQ }),
    huffman: bytes({ kind: 'quantized', q, ...sparseQ, huffman: true }),
  };
}

/**
 * Index widths `bestIndexBits` tries: 2 up to the format's limit. With Huffman coding the widest
 * often wins (LeNet-300-100's pruned input layer: 12 bits and more), since wide gaps need no
 * fillers and the code lengths follow the gaps' distribution, not the width.
 */
export const INDEX_BITS_CANDIDATES = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] as const;

/**
 * The relative-index width that makes this sparse layer's section smallest, found by encoding it
 * with each candidate (ties go to the narrower). Deep Compression fixes 5 bits for fc and 8 for
 * conv layers; the best width depends on the layer's gaps — a pruned input layer has runs of dead
 * pixels that 5-bit gaps bridge with many fillers — so Squash measures instead of guessing.
 */
export function bestIndexBits(layer: {
  name: string;
  shape: number[];
  encoding: Extract<LayerEncoding, { mask?: Uint8Array }>;
}): number {
  let best = { bits: INDEX_BITS_CANDIDATES[0] as number, bytes: Infinity };
  for (const bits of INDEX_BITS_CANDIDATES) {
    const bytes = encodeSection({ ...layer, encoding: { ...layer.encoding, indexBits: bits } }).parts.reduce(
      (a, [, p]) => a + p.length,
      0,
    );
    if (bytes < best.bytes) best = { bits, bytes };
  }
  return best.bits;
}
