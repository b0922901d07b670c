/**
 * Canonical Huffman coding with a maximum code length — the last stage of Deep Compression
 * (Han et al. 2016), applied to quantization codes and to sparse index gaps.
 *
 * Only code lengths are ever stored: canonical codes are rebuilt from them (codes of one length
 * are consecutive integers, shorter codes first, ties in symbol order — as in DEFLATE, RFC 1951
 * §3.2.2), so a table costs a few bits per symbol rather than a code per symbol.
 *
 * Lengths come from an ordinary Huffman tree, which is optimal; only when its depth exceeds
 * `maxLength` do we run package-merge (Larmore & Hirschberg 1990), which finds the optimal
 * lengths under that limit. The limit keeps decoding tables small and codes within 32 bits.
 */
import { canonicalCodes, LENGTH_BITS, MAX_ALPHABET, MAX_CODE_LENGTH } from '@squash/sqz/format';
import type { BitWriter } from './bitstream.js';

// Decoding, and the canonical codes both sides derive from a length table, are @squash/sqz's.
export { canonicalCodes, huffmanDecode, MAX_CODE_LENGTH, readCodeLengths } from '@squash/sqz/format';

/**
 * Optimal code lengths for the given symbol frequencies, none longer than `maxLength`.
 * Absent symbols (frequency 0) get length 0; a lone present symbol gets length 1, so every
 * occurrence still costs a bit and the decoder needs no special case.
 */
export function huffmanCodeLengths(freqs: ArrayLike<number>, maxLength = 24): Uint8Array {
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > MAX_CODE_LENGTH) {
    throw new RangeError(
      `huffmanCodeLengths: maxLength must be an integer in [1, ${MAX_CODE_LENGTH}], got ${maxLength}`,
    );
  }
  if (freqs.length > MAX_ALPHABET) {
    throw new RangeError(`huffmanCodeLengths: alphabet must have at most 2^24 symbols, got ${freqs.length}`);
  }
  const present: number[] = [];
  for (let s = 0; s < freqs.length; s++) {
    const f = freqs[s];
    if (!(f >= 0 && f < Infinity)) {
      throw new RangeError(`huffmanCodeLengths: frequencies must be finite and ≥ 0, got ${f} for symbol ${s}`);
    }
    if (f > 0) present.push(s);
  }
  const lengths = new Uint8Array(freqs.length);
  const n = present.length;
  if (n === 0) return lengths;
  if (n === 1) {
    lengths[present[0]] = 1;
    return lengths;
  }
  if (n > 2 ** maxLength) {
    throw new RangeError(`huffmanCodeLengths: ${n} symbols cannot all get codes of at most ${maxLength} bits`);
  }
  // Ascending frequency, ties by symbol, so equal inputs always give equal tables.
  present.sort((a, b) => freqs[a] - freqs[b] || a - b);
  const weights = Float64Array.from(present, (s) => freqs[s]);
  let depths = treeDepths(weights);
  let deepest = 0;
  for (let i = 0; i < n; i++) if (depths[i] > deepest) deepest = depths[i];
  if (deepest > maxLength) depths = packageMerge(weights, maxLength);
  for (let i = 0; i < n; i++) lengths[present[i]] = depths[i];
  return lengths;
}

/**
 * Leaf depths of a Huffman tree over ascending `weights`, by the two-queue method: leaves and
 * merged nodes are each produced in nondecreasing weight order, so the two smallest are always
 * at the heads of the queues — O(n) after the sort, no heap. Node k's parent has a larger index.
 */
function treeDepths(weights: Float64Array): Uint8Array {
  const n = weights.length;
  const w = new Float64Array(2 * n - 1);
  w.set(weights);
  const parent = new Int32Array(2 * n - 1);
  let leaf = 0;
  let inner = n;
  for (let k = n; k < 2 * n - 1; k++) {
    let sum = 0;
    for (let pick = 0; pick < 2; pick++) {
      const node = leaf < n && (inner >= k || w[leaf] <= w[inner]) ? leaf++ : inner++;
      parent[node] = k;
      sum += w[node];
    }
    w[k] = sum;
  }
  const depth = new Uint16Array(2 * n - 1);
  for (let k = 2 * n - 3; k >= 0; k--) depth[k] = depth[parent[k]] + 1;
  // Depths may exceed 255 only for astronomically skewed weights; clamp before packageMerge sees them.
  return Uint8Array.from(depth.subarray(0, n), (d) => Math.min(d, 255));
}

/**
 * Package-merge: optimal lengths ≤ L for ascending `weights`. Start from the list of leaves; L − 1
 * times, pair adjacent items of the list into packages and merge them with the leaves by weight.
 * Among the first 2n − 2 items of the final list, a symbol's code length is the number of times
 * its leaf occurs (inside packages included). Memory and time O(n·L).
 */
function packageMerge(weights: Float64Array, L: number): Uint8Array {
  const n = weights.length;
  const cap = n + L * n; // leaves, plus < n packages per round
  const w = new Float64Array(cap);
  const left = new Int32Array(cap);
  const right = new Int32Array(cap);
  w.set(weights);
  let nodes = n;
  let list = Int32Array.from({ length: n }, (_, i) => i);
  for (let round = 1; round < L; round++) {
    const packages = list.length >> 1;
    const next = new Int32Array(n + packages);
    let li = 0;
    let pi = 0;
    for (let o = 0; o < next.length; o++) {
      let take: number;
      if (pi >= packages || (li < n && weights[li] <= w[list[2 * pi]] + w[list[2 * pi + 1]])) {
        take = li++;
      } else {
        take = nodes++;
        left[take] = list[2 * pi];
        right[take] = list[2 * pi + 1];
        w[take] = w[left[take]] + w[right[take]];
        pi++;
      }
      next[o] = take;
    }
    list = next;
  }
  const depths = new Uint8Array(n);
  const stack: number[] = [];
  for (let i = 0; i < 2 * n - 2; i++) {
    stack.push(list[i]);
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node < n) depths[node]++;
      else stack.push(left[node], right[node]);
    }
  }
  return depths;
}

/** Index of the first symbol without a code (outside the alphabet, or length 0), or −1. */
function firstUncoded(symbols: ArrayLike<number>, lengths: Uint8Array): number {
  const alphabet = lengths.length;
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i];
    // `s < alphabet` is false for NaN; lengths[-1] and lengths[1.5] are undefined, and !(undefined > 0).
    if (!(s < alphabet && lengths[s] > 0)) return i;
  }
  return -1;
}

export function huffmanEncode(symbols: ArrayLike<number>, lengths: Uint8Array, w: BitWriter): void {
  const codes = canonicalCodes(lengths);
  const bad = firstUncoded(symbols, lengths);
  if (bad >= 0) {
    throw new RangeError(
      `huffmanEncode: symbol ${symbols[bad]} at index ${bad} has no code (alphabet of ${lengths.length})`,
    );
  }
  w.writeSymbols(symbols, codes, lengths);
}

/**
 * Serialises a length table: the alphabet size (32 bits), then runs of equal lengths, each as the
 * length (6 bits) and the run length in Elias gamma code (2⌊log2 r⌋ + 1 bits). Tables are mostly
 * long runs — zeros for absent symbols, equal lengths for similar frequencies — so a 32-symbol
 * table takes a few dozen bytes and a sparse 2^16-symbol one not much more.
 */
export function writeCodeLengths(lengths: Uint8Array, w: BitWriter): void {
  w.write(lengths.length, 32);
  let i = 0;
  while (i < lengths.length) {
    const v = lengths[i];
    if (v > MAX_CODE_LENGTH)
      throw new RangeError(`writeCodeLengths: code lengths must be ≤ ${MAX_CODE_LENGTH}, got ${v} for symbol ${i}`);
    let run = 1;
    while (i + run < lengths.length && lengths[i + run] === v) run++;
    w.write(v, LENGTH_BITS);
    writeGamma(run, w);
    i += run;
  }
}

/** Elias gamma: ⌊log2 x⌋ zeros, then x in binary (which starts with a 1). x ≥ 1, < 2^32. */
function writeGamma(x: number, w: BitWriter): void {
  const nBits = 32 - Math.clz32(x);
  w.write(0, nBits - 1);
  w.write(x, nBits);
}
