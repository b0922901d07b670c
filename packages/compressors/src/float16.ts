/**
 * IEEE 754 half precision, as numpy's `astype(np.float16)` writes it (round to nearest, ties to
 * even, subnormals kept, overflow to ±Infinity) and as tfjs-core's `getFloat16Decoder` reads it.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  if (d !== 0.5) return d > 0.5 ? f + 1 : f;
  return f % 2 === 0 ? f : f + 1;
}

/** Half-precision bits of `x` (rounded once from its float32 value). */
export function float16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  if (exponent === 0xff) return sign | 0x7c00 | (bits & 0x7fffff ? 0x200 : 0);
  const a = Math.abs(f32[0]!);
  // 65520 is halfway between 65504 (the largest half, odd mantissa) and 65536: the tie goes up.
  if (a >= 65520) return sign | 0x7c00;
  // Below 2^-14 halves are subnormal: multiples of 2^-24. A result of 1024 is 2^-14, the smallest
  // normal, whose bits are exactly 1024 too.
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24);
  const e = exponent - 127;
  let m = roundHalfEven(a * 2 ** (10 - e));
  let biased = e + 15;
  if (m === 2048) {
    m = 1024;
    biased++;
  }
  return sign | (biased << 10) | (m - 1024);
}

/** The number half-precision `bits` stand for (what tfjs decodes them to). */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >>> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (e - 25);
}
