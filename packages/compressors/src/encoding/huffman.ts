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
import type { BitReader, BitWriter } from './bitstream.js';

/** Longest code a table may hold: codes are stored in a Uint32Array and written ≤ 32 bits at a time. */
export const MAX_CODE_LENGTH = 32;
/** Alphabet limit of the decoding table, which packs symbol << 6 | length into an int32. */
const MAX_ALPHABET = 1 << 24;

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

/** Per length 1..max: how many codes, and the first (smallest) canonical code of that length. */
function canonicalStarts(fn: string, lengths: Uint8Array): { count: Float64Array; first: Float64Array; max: number } {
  const count = new Float64Array(MAX_CODE_LENGTH + 1);
  let max = 0;
  for (let s = 0; s < lengths.length; s++) {
    const len = lengths[s];
    if (len > MAX_CODE_LENGTH)
      throw new RangeError(`${fn}: code lengths must be ≤ ${MAX_CODE_LENGTH}, got ${len} for symbol ${s}`);
    count[len]++;
    if (len > max) max = len;
  }
  count[0] = 0;
  const first = new Float64Array(MAX_CODE_LENGTH + 1);
  let code = 0;
  for (let len = 1; len <= max; len++) {
    code = (code + count[len - 1]) * 2;
    first[len] = code;
    // Kraft sum > 1: more codes of this length than the shorter ones leave room for.
    if (code + count[len] > 2 ** len) {
      throw new RangeError(`${fn}: code lengths are over-subscribed (Kraft sum > 1) at length ${len}`);
    }
  }
  return { count, first, max };
}

/** The canonical code of each symbol (0 for absent ones), right-aligned in its length. */
export function canonicalCodes(lengths: Uint8Array): Uint32Array {
  const { first } = canonicalStarts('canonicalCodes', lengths);
  const next = first.slice();
  const codes = new Uint32Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) if (lengths[s] > 0) codes[s] = next[lengths[s]]++;
  return codes;
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

/** Bits of the primary decoding table: codes this short decode in one lookup. */
const TABLE_BITS = 11;

/** Everything decoding needs, built once per call from the lengths. */
interface Decoder {
  /** Bits of the table index: min(TABLE_BITS, longest code). */
  k: number;
  /** Indexed by the next k bits: symbol << 6 | length for codes of ≤ k bits, else 0. */
  table: Int32Array;
  max: number;
  /** Canonical decoding of longer codes: per length, first code, count, and offset into `sorted`. */
  first: Float64Array;
  perLen: Float64Array;
  offset: Float64Array;
  /** Symbols ordered by (length, symbol). */
  sorted: Int32Array;
}

function buildDecoder(lengths: Uint8Array): Decoder {
  const { count: perLen, first, max } = canonicalStarts('huffmanDecode', lengths);
  const codes = canonicalCodes(lengths);
  const k = Math.min(TABLE_BITS, max);
  const table = new Int32Array(1 << k);
  const offset = new Float64Array(MAX_CODE_LENGTH + 1);
  for (let len = 1; len <= max; len++) offset[len] = offset[len - 1] + perLen[len - 1];
  const sorted = new Int32Array(lengths.length);
  const fill = offset.slice();
  for (let s = 0; s < lengths.length; s++) {
    const len = lengths[s];
    if (len === 0) continue;
    sorted[fill[len]++] = s;
    if (len <= k) table.fill((s << 6) | len, codes[s] << (k - len), (codes[s] + 1) << (k - len));
  }
  return { k, table, max, first, perLen, offset, sorted };
}

/**
 * One symbol the careful way, bit by bit with zero padding past `end`: near the end of the bytes
 * (where the fast path's 3-byte window would overrun) and for codes longer than k bits, which
 * continue with canonical decoding (RFC 1951 style, as in zlib's puff.c). Returns
 * length · 2^24 + symbol, or −1 if no code matches.
 */
function slowSymbol(d: Decoder, bytes: Uint8Array, end: number, pos: number): number {
  const bitAt = (p: number): number => (p < end ? (bytes[p >>> 3] >>> (7 - (p & 7))) & 1 : 0);
  let code = 0;
  for (let b = 0; b < d.k; b++) code = code * 2 + bitAt(pos + b);
  const e = d.table[code];
  if (e !== 0) return (e & 63) * 2 ** 24 + (e >>> 6);
  for (let len = d.k + 1; len <= d.max; len++) {
    code = code * 2 + bitAt(pos + len - 1);
    const i = code - d.first[len];
    if (i >= 0 && i < d.perLen[len]) return len * 2 ** 24 + d.sorted[d.offset[len] + i];
  }
  return -1;
}

/**
 * The hot loop: table hits while the 3-byte window (k + 7 ≤ 24 bits) lies inside `bytes`. Returns
 * the index of the first symbol it did not decode; the bit position travels in `cursor[0]`.
 * Deliberately only typed arrays and numbers: V8 (Node 20) kept deoptimizing the loop when it sat
 * next to property accesses on the reader ("insufficient type feedback" after every GC).
 */
function decodeFast(
  table: Int32Array,
  k: number,
  bytes: Uint8Array,
  out: Uint32Array,
  i: number,
  cursor: Float64Array,
): number {
  const mask = (1 << k) - 1;
  const shift = 24 - k;
  const fastEnd = (bytes.length - 2) * 8;
  const count = out.length;
  let pos = cursor[0];
  while (i < count && pos < fastEnd) {
    const at = pos >>> 3;
    const e = table[(((bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2]) >>> (shift - (pos & 7))) & mask];
    if (e === 0) break;
    out[i++] = e >>> 6;
    pos += e & 63;
  }
  cursor[0] = pos;
  return i;
}

/**
 * Decodes `count` symbols. A table indexed by the next k = min(11, longest) bits resolves every
 * code of ≤ k bits in one lookup — the common case, as short codes are the frequent ones. The hot
 * loop reads `r.bytes` directly and moves `r.position` once at the end; the last bytes and long
 * codes go through `slowSymbol`. Bytes past `r.bitLength` may be peeked at, never consumed: the
 * final check rejects a stream that would need them.
 */
export function huffmanDecode(r: BitReader, lengths: Uint8Array, count: number): Uint32Array {
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`huffmanDecode: count must be an integer ≥ 0, got ${count}`);
  if (r.bytes.length >= 2 ** 29)
    throw new RangeError(`huffmanDecode: streams must be < 512 MiB, got ${r.bytes.length} bytes`);
  const out = new Uint32Array(count);
  if (count === 0) return out;
  const d = buildDecoder(lengths);
  if (d.max === 0) throw new RangeError(`huffmanDecode: expected ${count} symbols, but the code table is empty`);
  const bytes = r.bytes;
  const end = r.bitLength;
  const start = r.position;
  const cursor = new Float64Array([start]);
  let i = 0;
  for (;;) {
    i = decodeFast(d.table, d.k, bytes, out, i, cursor);
    if (i === count) break;
    const s = slowSymbol(d, bytes, end, cursor[0]);
    if (s < 0)
      throw new RangeError(
        `huffmanDecode: no code matches the bits at position ${cursor[0]} (symbol ${i} of ${count})`,
      );
    out[i++] = s % 2 ** 24;
    cursor[0] += Math.floor(s / 2 ** 24);
  }
  const pos = cursor[0];
  if (pos > end) {
    throw new RangeError(
      `huffmanDecode: expected ${count} symbols within ${end - start} bits, but they need ${pos - start}`,
    );
  }
  r.position = pos;
  return out;
}

/** Bits of each stored length value: lengths are 0..32. */
const LENGTH_BITS = 6;

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

export function readCodeLengths(r: BitReader): Uint8Array {
  const size = r.read(32);
  if (size > MAX_ALPHABET)
    throw new RangeError(`readCodeLengths: expected an alphabet of at most 2^24 symbols, found ${size}`);
  const lengths = new Uint8Array(size);
  let i = 0;
  while (i < size) {
    const v = r.read(LENGTH_BITS);
    if (v > MAX_CODE_LENGTH)
      throw new RangeError(`readCodeLengths: expected a code length ≤ ${MAX_CODE_LENGTH}, found ${v} at symbol ${i}`);
    const run = readGamma(r);
    if (i + run > size)
      throw new RangeError(`readCodeLengths: a run of ${run} at symbol ${i} overruns the alphabet of ${size}`);
    lengths.fill(v, i, i + run);
    i += run;
  }
  return lengths;
}

/** Elias gamma: ⌊log2 x⌋ zeros, then x in binary (which starts with a 1). x ≥ 1, < 2^32. */
function writeGamma(x: number, w: BitWriter): void {
  const nBits = 32 - Math.clz32(x);
  w.write(0, nBits - 1);
  w.write(x, nBits);
}

function readGamma(r: BitReader): number {
  let zeros = 0;
  while (r.readBit() === 0) {
    if (++zeros > 31)
      throw new RangeError(
        `readCodeLengths: expected an Elias gamma run length, found 32 zero bits at bit ${r.position}`,
      );
  }
  return zeros === 0 ? 1 : 2 ** zeros + r.read(zeros);
}
