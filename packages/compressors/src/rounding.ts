/**
 * Round half away from zero, so every quantizer here is sign-symmetric: q(−x) = −q(x).
 * `Math.round` rounds halves up (−2.5 → −2, 2.5 → 3), which would pull negative weights toward
 * zero and positive ones away from it — a small but systematic bias over millions of weights.
 */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Guards the impls against programming errors; user input is checked earlier by `validate`. */
export function checkBits(fn: string, bits: number, min: number, max: number): void {
  if (!Number.isInteger(bits) || bits < min || bits > max) {
    throw new RangeError(`${fn}: bits must be an integer in [${min}, ${max}], got ${bits}`);
  }
}
