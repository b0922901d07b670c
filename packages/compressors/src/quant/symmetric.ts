import type { QuantizedTensor } from '../quantized_tensor.js';
import { checkBits, roundHalfAwayInt } from '../rounding.js';
import { fitScale, minMax, quantizeChannels, type EncodeRun, type QuantizeOptions } from './driver.js';

/**
 * Symbol of v on the grid {k · step : −qmax ≤ k ≤ qmax}, shifted to [0, 2·qmax]: round half away
 * from zero (`roundHalfAwayInt`), saturating at ±qmax. Clamping before rounding keeps
 * `roundHalfAwayInt` inside int32 and changes nothing else. A zero step (an all-zero channel)
 * sends everything to the zero symbol qmax. Shared with pow2, which differs only in the step.
 */
export function encodeGrid(v: number, step: number, qmax: number): number {
  if (step === 0) return qmax;
  let y = v / step;
  if (y > qmax) y = qmax;
  else if (y < -qmax) y = -qmax;
  return roundHalfAwayInt(y) + qmax;
}

/**
 * `encodeGrid` over a run of weights, ~3× faster: rounding first and clamping the integer
 * (branch-free int32 min/max) gives the same symbol for every |w / step| < 2^31, which holds for
 * every kept weight (the step comes from them). A masked-out weight can be any finite value and
 * get a wrong symbol here, but the driver overwrites those. step 0 gives NaN or ±Infinity, whose
 * `| 0` is 0, hence the zero symbol qmax, as in `encodeGrid`.
 */
export function gridRun(step: number, qmax: number): EncodeRun {
  return (values, codes, start, count, stride) => {
    const s = step;
    const q = qmax;
    const top = 2 * qmax;
    const end = start + count * stride;
    for (let i = start; i < end; i += stride) {
      const y = values[i] / s;
      const t = y | 0;
      codes[i] = Math.min(Math.max(t + (((y - t) * 2) | 0) + q, 0), top);
    }
  };
}

/**
 * Symmetric uniform quantization to b bits (2..16): qmax = 2^(b−1) − 1, scale = max|w| / qmax
 * over the channel's kept weights, symbol = round(w / scale) + qmax in [0, 2^b − 2], so there are
 * 2^b − 1 levels (k − qmax)·scale with 0 exact at symbol qmax. params: [scale] per channel.
 *
 * The scale is a float32 — what the artifact stores — rounded down and then chosen as a fixed
 * point (see `fitScale`), so quantizing the output again changes nothing.
 */
export function quantizeSymmetric(values: Float32Array, shape: number[], opts: QuantizeOptions): QuantizedTensor {
  checkBits('symmetric', opts.bits, 2, 16);
  const qmax = 2 ** (opts.bits - 1) - 1;
  const levels = 2 * qmax + 1;
  const rawScale = (min: number, max: number) => Math.max(-min, max) / qmax;
  const paramsFor = (scale: number) => [scale];
  const encode = (p: number[], v: number) => encodeGrid(v, p[0], qmax);
  return quantizeChannels('symmetric', values, shape, opts, levels, (kept) => {
    const { min, max } = minMax(kept);
    const p = fitScale('symmetric', levels, min, max, rawScale, paramsFor, encode);
    const scale = p[0];
    return { params: p, zeroCode: qmax, encode: gridRun(scale, qmax) };
  });
}
