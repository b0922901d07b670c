/**
 * Round half away from zero, so every quantizer here is sign-symmetric: q(−x) = −q(x).
 * `Math.round` rounds halves up (−2.5 → −2, 2.5 → 3), which would pull negative weights toward
 * zero and positive ones away from it — a small but systematic bias over millions of weights.
 */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * `roundHalfAway` for the hot loops, about 4× faster on V8 (Node 20), where `Math.round` is not
 * inlined and the sign branch mispredicts on random signs. Only for |x| < 2^31, which callers
 * ensure by clamping; NaN gives 0.
 *
 * Exact, not an approximation: t = x | 0 truncates toward zero, x − t is the fractional part
 * (exact in floating point), and (2·(x − t)) | 0 is 1, 0 or −1 exactly when that part is ≥ ½,
 * in (−½, ½), or ≤ −½. Adding 0.5 then truncating would instead round 0.49999999999999994 up.
 */
export function roundHalfAwayInt(x: number): number {
  const t = x | 0;
  return t + (((x - t) * 2) | 0);
}

/** Guards the impls against programming errors; user input is checked earlier by `validate`. */
export function checkBits(fn: string, bits: number, min: number, max: number): void {
  if (!Number.isInteger(bits) || bits < min || bits > max) {
    throw new RangeError(`${fn}: bits must be an integer in [${min}, ${max}], got ${bits}`);
  }
}
