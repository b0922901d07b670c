/**
 * Deep Compression's sparse index format (Han et al. 2016, §2 and Figure 2): the positions of kept
 * weights are stored not as absolute indices but as the gap to the previous kept position, each in
 * a fixed `indexBits`. Gaps are small where weights are dense, so few bits suffice — and the gaps'
 * skewed distribution is what Huffman coding later exploits.
 *
 * A gap g = pos − prev ≥ 1 is stored as g − 1, so `indexBits` bits cover gaps 1..2^indexBits. The
 * first gap is measured from position −1, which lets position 0 be encoded (the paper counts from
 * 0 and cannot). A longer gap is bridged by filler entries, each 2^indexBits past the previous
 * entry and holding the value zero, until the rest fits.
 */

export { decodeRelativeIndices } from '@squash/sqz/format';

export interface RelativeIndices {
  /** Stored values g − 1, each < 2^indexBits, one per entry (fillers included). */
  gaps: Uint32Array;
  /** 1 where the entry is a filler (value zero), 0 where it is a kept weight. */
  isFiller: Uint8Array;
  /** Absolute position of each entry, fillers included. */
  positions: Int32Array;
}

export function checkIndexBits(fn: string, indexBits: number, max = 31): void {
  if (!Number.isInteger(indexBits) || indexBits < 1 || indexBits > max) {
    throw new RangeError(`${fn}: indexBits must be an integer in [1, ${max}], got ${indexBits}`);
  }
}

/** Entries for the nonzero positions of `mask`. */
export function encodeRelativeIndices(mask: Uint8Array, indexBits: number): RelativeIndices {
  checkIndexBits('encodeRelativeIndices', indexBits);
  const span = 2 ** indexBits;
  let entries = 0;
  let prev = -1;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    entries += Math.ceil((i - prev) / span); // fillers + the entry itself
    prev = i;
  }
  const gaps = new Uint32Array(entries);
  const isFiller = new Uint8Array(entries);
  const positions = new Int32Array(entries);
  let e = 0;
  prev = -1;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    while (i - prev > span) {
      prev += span;
      gaps[e] = span - 1;
      isFiller[e] = 1;
      positions[e++] = prev;
    }
    gaps[e] = i - prev - 1;
    positions[e++] = i;
    prev = i;
  }
  return { gaps, isFiller, positions };
}
