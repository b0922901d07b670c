import type { QuantizedTensor } from '../quantized_tensor.js';
import { quantizeChannels, type EncodeRun, type QuantizeOptions } from './driver.js';

/** mean |w| of a channel as a float32, 0 for an empty channel. */
export function meanAbs(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return a.length ? Math.fround(s / a.length) : 0;
}

/**
 * Binary weights (XNOR-Net, Rastegari et al. 2016): w → sign(w)·α with α = mean |w| over the
 * channel's kept weights, the α that minimises ‖w − α·sign(w)‖². bits must be 1. A weight of
 * exactly 0 becomes +α: sign(0) has to pick a side, and the XNOR-Net convention is +1.
 * params: [α] per channel; codebook {−α, +α}, symbols 0 and 1.
 *
 * With a mask the codebook needs a symbol for the pruned positions (and for the filler entries
 * of the sparse format), so it becomes {−α, 0, +α}: 3 levels, 2 bits per code before entropy
 * coding — Huffman coding then makes the rarely used symbols cheap.
 * Idempotent: quantizing ±α again gives mean |w| = α exactly (n·α is exact in float64).
 */
export function quantizeBinary(values: Float32Array, shape: number[], opts: QuantizeOptions): QuantizedTensor {
  if (opts.bits !== 1) throw new RangeError(`binary: bits must be 1, got ${opts.bits}`);
  const masked = opts.mask !== undefined;
  const levels = masked ? 3 : 2;
  const plus = levels - 1;
  return quantizeChannels('binary', values, shape, opts, levels, (kept) => {
    const alpha = meanAbs(kept);
    const zeroCode = masked ? 1 : alpha === 0 ? plus : -1;
    // Branch-free: signs are random, and a mispredicted branch per weight doubles the time.
    // ((v < 0) − 1) is −1 (all bits) or 0, masking `plus`.
    const encode: EncodeRun = (values, codes, start, count, stride) => {
      const end = start + count * stride;
      for (let i = start; i < end; i += stride) codes[i] = plus & (Number(values[i] < 0) - 1);
    };
    return { params: [alpha], zeroCode, encode };
  });
}
