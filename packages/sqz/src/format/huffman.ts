/**
 * Canonical Huffman decoding — the last stage of Deep Compression (Han et al. 2016), applied to
 * quantization codes and sparse index gaps. The encoder (code lengths by Huffman/package-merge,
 * `huffmanEncode`, `writeCodeLengths`) lives in @squash/compressors; what both sides must agree on
 * bit for bit — the canonical code of each length table — lives here.
 *
 * Only code lengths are ever stored: canonical codes are rebuilt from them (codes of one length
 * are consecutive integers, shorter codes first, ties in symbol order — as in DEFLATE, RFC 1951
 * §3.2.2), so a table costs a few bits per symbol rather than a code per symbol.
 */
import type { BitReader } from './bit_reader.js';

/** Longest code a table may hold: codes are stored in a Uint32Array and written ≤ 32 bits at a time. */
export const MAX_CODE_LENGTH = 32;
/** Alphabet limit of the decoding table, which packs symbol << 6 | length into an int32. */
export const MAX_ALPHABET = 1 << 24;
/** Bits of each stored length value: lengths are 0..32. */
export const LENGTH_BITS = 6;

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
  // Every code is at least one bit: a corrupt count fails here, before it sizes an allocation.
  if (count > r.remaining)
    throw new RangeError(
      `huffmanDecode: expected ${count} symbols within ${r.remaining} bits, but they need ${count} or more`,
    );
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

/**
 * Reads a length table as `writeCodeLengths` stores it: the alphabet size (32 bits), then runs of
 * equal lengths, each as the length (6 bits) and the run length in Elias gamma code (⌊log2 r⌋
 * zero bits, then r in binary). With `alphabet`, a table of any other size is rejected before
 * anything is allocated for it.
 */
export function readCodeLengths(r: BitReader, alphabet?: number): Uint8Array {
  const size = r.read(32);
  if (alphabet !== undefined && size !== alphabet)
    throw new RangeError(`readCodeLengths: expected an alphabet of ${alphabet} symbols, found ${size}`);
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
