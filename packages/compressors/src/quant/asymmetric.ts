import type { QuantizedTensor } from '../quantized_tensor.js';
import { checkBits, roundHalfAway, roundHalfAwayInt } from '../rounding.js';
import { fitScale, minMax, quantizeChannels, type EncodeRun, type QuantizeOptions } from './driver.js';

function encodeAffine(v: number, scale: number, zeroPoint: number, qmax: number): number {
  if (scale === 0) return zeroPoint;
  let y = v / scale;
  // Beyond ±(qmax + 1) steps the result saturates anyway; keeps roundHalfAwayInt in int32.
  if (y > qmax + 1) y = qmax + 1;
  else if (y < -qmax - 1) y = -qmax - 1;
  const q = roundHalfAwayInt(y) + zeroPoint;
  return q < 0 ? 0 : Math.min(q, qmax);
}

/**
 * Asymmetric (affine) quantization, b bits (1..16), the weight analogue of `fakeQuantizeInPlace`:
 * over the channel's kept weights, range [min(0, min w), max(0, max w)], qmax = 2^b − 1,
 * scale = (max − min) / qmax, zeroPoint = clamp(round(−min / scale), 0, qmax),
 * symbol = clamp(round(w / scale) + zeroPoint, 0, qmax), value (k − zeroPoint)·scale.
 * 2^b levels; 0 is exact (symbol zeroPoint) because the range includes 0 and zeroPoint is an
 * integer — the grid shifts by up to scale/2 instead, so |w − q| ≤ scale/2 still holds.
 * params: [scale, zeroPoint] per channel; the scale is a float32 rounded down, so both end codes
 * are always used, and a fixed point of re-quantization (see `fitScale`).
 * An all-zero or empty channel has scale 0 and zeroPoint 0.
 */
export function quantizeAsymmetric(values: Float32Array, shape: number[], opts: QuantizeOptions): QuantizedTensor {
  checkBits('asymmetric', opts.bits, 1, 16);
  const qmax = 2 ** opts.bits - 1;
  const levels = qmax + 1;
  const rawScale = (min: number, max: number) => (Math.max(0, max) - Math.min(0, min)) / qmax;
  const paramsFor = (scale: number, min: number) => {
    if (scale === 0) return [0, 0];
    const zp = roundHalfAway(-Math.min(0, min) / scale);
    return [scale, (zp < 0 ? 0 : Math.min(zp, qmax)) + 0];
  };
  const encodeOne = (p: number[], v: number) => encodeAffine(v, p[0], p[1], qmax);
  return quantizeChannels('asymmetric', values, shape, opts, levels, (kept) => {
    const { min, max } = minMax(kept);
    const p = fitScale('asymmetric', levels, min, max, rawScale, paramsFor, encodeOne);
    const [scale, zeroPoint] = p;
    // encodeAffine unrolled as in gridRun: round, then clamp the integer (same symbols for kept weights).
    const encode: EncodeRun = (values, codes, start, count, stride) => {
      const s = scale;
      const zp = zeroPoint;
      const top = qmax;
      const end = start + count * stride;
      for (let i = start; i < end; i += stride) {
        const y = values[i] / s;
        const t = y | 0;
        codes[i] = Math.min(Math.max(t + (((y - t) * 2) | 0) + zp, 0), top);
      }
    };
    return { params: p, zeroCode: zeroPoint, encode };
  });
}
