import { checkBits, roundHalfAwayInt } from './rounding.js';

/**
 * Symmetric uniform per-tensor quantization to `bits` bits.
 *
 * qmax = 2^(b−1) − 1, scale = max|w| / qmax, code = clamp(round(w / scale), −qmax, qmax),
 * value = code · scale: 2^b − 1 evenly spaced levels spanning [−max|w|, max|w|], with 0 exact.
 *
 * The article's formula, round(w / 2^(b−1)) · 2^(b−1), uses a step of 2^(b−1) regardless of the
 * weights, so every weight with |w| < 2^(b−2) rounds to zero — that is every weight of a typical
 * network (|w| ≪ 1 while 2^(b−2) ≥ 1 for b ≥ 2). We implement its intent instead: 2^b − 1 levels
 * spread over the tensor's own range.
 *
 * Rounding is half away from zero (see `roundHalfAway`), so q(−w) = −q(w).
 * The symmetric grid needs b ≥ 2: with 1 bit its only level is 0; binary weights (±α) are a
 * different scheme. An all-zero (or empty) tensor gets scale 0 and all codes 0.
 */
export function quantizeSymmetricImpl(
  values: Float32Array,
  bits: number,
): { values: Float32Array; scale: number; codes: Int32Array } {
  checkBits('quantize', bits, 2, 16);
  const n = values.length;
  let maxAbs = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(values[i]);
    // A NaN or infinite weight would make the scale meaningless for the whole tensor.
    if (!Number.isFinite(a)) throw new RangeError(`quantize: non-finite weight ${values[i]} at index ${i}`);
    if (a > maxAbs) maxAbs = a;
  }
  const out = new Float32Array(n);
  const codes = new Int32Array(n);
  if (maxAbs === 0) return { values: out, scale: 0, codes };
  const qmax = 2 ** (bits - 1) - 1;
  const scale = maxAbs / qmax;
  for (let i = 0; i < n; i++) {
    // |w / scale| <= qmax (+ an ulp), far inside the int32 range roundHalfAwayInt needs.
    let c = roundHalfAwayInt(values[i] / scale);
    // max|w| / scale can land one ulp above qmax; the clamp keeps the grid at 2^b − 1 levels.
    if (c > qmax) c = qmax;
    else if (c < -qmax) c = -qmax;
    codes[i] = c;
    out[i] = c * scale;
  }
  return { values: out, scale, codes };
}
