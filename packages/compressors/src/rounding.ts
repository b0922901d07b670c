export { roundHalfAway, roundHalfAwayInt } from '@squash/sqz/format';

/** Guards the impls against programming errors; user input is checked earlier by `validate`. */
export function checkBits(fn: string, bits: number, min: number, max: number): void {
  if (!Number.isInteger(bits) || bits < min || bits > max) {
    throw new RangeError(`${fn}: bits must be an integer in [${min}, ${max}], got ${bits}`);
  }
}
