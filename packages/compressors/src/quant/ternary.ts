import type { QuantizedTensor } from '../quantized_tensor.js';
import { quantizeChannels, type EncodeRun, type QuantizeOptions } from './driver.js';

/**
 * Ternary weights (TWN, Li & Liu 2016): threshold Δ = 0.7 · mean |w| over the channel's kept
 * weights; |w| ≤ Δ → 0, otherwise sign(w)·α with α = mean of |w| over the weights with |w| > Δ
 * (0 if there are none). 0.7 is the paper's approximation of the optimal Δ for Gaussian or
 * uniform weights. bits must be 2; codebook {−α, 0, +α}, zero symbol 1; params: [α] per channel.
 * Idempotent: on {−α, 0, α} the new Δ is 0.7·α·(nonzero fraction) < α, so nothing moves.
 */
export function quantizeTernary(values: Float32Array, shape: number[], opts: QuantizeOptions): QuantizedTensor {
  if (opts.bits !== 2) throw new RangeError(`ternary: bits must be 2, got ${opts.bits}`);
  return quantizeChannels('ternary', values, shape, opts, 3, (kept) => {
    let sum = 0;
    for (let i = 0; i < kept.length; i++) sum += Math.abs(kept[i]);
    const delta = kept.length ? 0.7 * (sum / kept.length) : 0;
    let big = 0;
    let count = 0;
    for (let i = 0; i < kept.length; i++) {
      // Branch-free: about half the weights pass Δ, in random order.
      const a = Math.abs(kept[i]);
      const on = Number(a > delta);
      big += a * on;
      count += on;
    }
    const alpha = count ? Math.fround(big / count) : 0;
    const encode: EncodeRun = (values, codes, start, count, stride) => {
      const d = delta;
      const end = start + count * stride;
      for (let i = start; i < end; i += stride) {
        const v = values[i];
        codes[i] = 1 + Number(v > d) - Number(v < -d);
      }
    };
    return { params: [alpha], zeroCode: 1, encode };
  });
}
