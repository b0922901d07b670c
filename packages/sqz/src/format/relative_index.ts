/**
 * Deep Compression's sparse index format (Han et al. 2016, §2 and Figure 2), read side: each entry
 * stores the gap to the previous entry's position, minus one (the first measured from position
 * −1), so `indexBits` bits cover gaps 1..2^indexBits. Longer gaps are bridged by filler entries,
 * which hold zero. The encoder (`encodeRelativeIndices`) lives in @squash/compressors.
 */

/** Absolute positions of the entries, fillers included (a filler cannot be told from a kept zero). */
export function decodeRelativeIndices(gaps: Uint32Array): Int32Array {
  const positions = new Int32Array(gaps.length);
  let prev = -1;
  for (let e = 0; e < gaps.length; e++) {
    prev += gaps[e] + 1;
    positions[e] = prev;
  }
  return positions;
}
