import type { QuantizedTensor } from '../quantized_tensor.js';
import { checkBits } from '../rounding.js';
import { minMax, quantizeChannels, type QuantizeOptions } from './driver.js';
import { gridRun } from './symmetric.js';

/**
 * The smallest power of two 2^e with qmax · 2^e ≥ maxAbs, i.e. 2^ceil(log2(maxAbs / qmax)),
 * found by exact comparisons rather than trusting Math.log2 near powers of two. At least 2^−149
 * (float32's smallest subnormal); 0 for an all-zero channel.
 */
export function pow2Step(maxAbs: number, qmax: number): number {
  if (!(maxAbs >= 0 && maxAbs <= 2 ** 126)) throw new RangeError(`pow2: max|w| must be in [0, 2^126], got ${maxAbs}`);
  if (maxAbs === 0) return 0;
  let e = Math.ceil(Math.log2(maxAbs / qmax));
  while (qmax * 2 ** e < maxAbs) e++;
  while (qmax * 2 ** (e - 1) >= maxAbs) e--;
  // qmax · 2^e < 2 · max|w| ≤ 2^127 has at most 16 significant bits: exact in float32.
  return 2 ** Math.max(e, -149);
}

/**
 * Power-of-two quantization, b bits (2..16): the symmetric grid of `quantizeSymmetric`
 * (symbols [0, 2^b − 2], levels (k − qmax)·step) with the step rounded up to a power of two,
 * step = 2^ceil(log2(max|w| / qmax)) — the smallest power of two whose grid still covers max|w|.
 * params: [step] per channel.
 *
 * This is the sound reading of the article's round(w / 2^(b−1)) · 2^(b−1): its step is a power of
 * two, which makes dequantization a shift (fixed-point / Q-format arithmetic), but a step fixed at
 * 2^(b−1) rounds every |w| < 2^(b−2) — all weights of a typical network — to 0. Choosing the
 * exponent from the weights keeps the power-of-two step and spans the weights' range; the price
 * is up to half the levels unused (the step can be ~2× the symmetric one).
 * Every operation is exact (division by a power of two), so |w − q| ≤ step/2 holds exactly.
 */
export function quantizePow2(values: Float32Array, shape: number[], opts: QuantizeOptions): QuantizedTensor {
  checkBits('pow2', opts.bits, 2, 16);
  const qmax = 2 ** (opts.bits - 1) - 1;
  const levels = 2 * qmax + 1;
  return quantizeChannels('pow2', values, shape, opts, levels, (kept) => {
    const { min, max } = minMax(kept);
    // A fixed point without settling: the output's max|w| is k·step exactly with k > qmax/2
    // (max|w| > qmax·step/2 rounds to more than qmax/2), and pow2Step maps it back to step.
    const p = [pow2Step(Math.max(-min, max), qmax)];
    const step = p[0];
    return { params: p, zeroCode: qmax, encode: gridRun(step, qmax) };
  });
}
