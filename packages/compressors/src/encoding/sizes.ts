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
