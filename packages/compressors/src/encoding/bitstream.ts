/**
 * MSB-first bit streams: the first bit written is the most significant bit of the first byte, so
 * a code's bits appear in the file in the order they are read — the convention of canonical
 * Huffman decoding, which compares codes as big-endian integers. Values of up to 32 bits. The
 * reader is @squash/sqz's, so the browser decoder and these tests read the same way.
 */
export { BitReader } from '@squash/sqz/format';

function checkWidth(fn: string, nBits: number): void {
  if (!Number.isInteger(nBits) || nBits < 0 || nBits > 32) {
    throw new RangeError(`${fn}: nBits must be an integer in [0, 32], got ${nBits}`);
  }
}

/**
 * The loop of `writeSymbols`, kept apart from the class on purpose: with nothing but typed arrays
 * and numbers inside, V8 keeps its optimized code. As a method it was deoptimized after every GC
 * that collected all writers (their map goes, and with it the property-access feedback), which
 * cost 3–5× in benchmarks. `state` carries the accumulator and its bit count in and out; the
 * buffer must have room. Returns the new byte length.
 */
function packSymbols(
  buf: Uint8Array,
  n: number,
  state: Int32Array,
  symbols: ArrayLike<number>,
  codes: Uint32Array,
  lengths: Uint8Array,
): number {
  let acc = state[0];
  let bits = state[1];
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i];
    const len = lengths[s];
    acc = (acc << len) | codes[s];
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      buf[n++] = acc >>> bits;
    }
    acc &= (1 << bits) - 1;
  }
  state[0] = acc;
  state[1] = bits;
  return n;
}

export class BitWriter {
  private buf: Uint8Array;
  private byteLen = 0;
  /** Fewer than 8 pending bits, right-aligned; they become a byte once 8 have accumulated. */
  private acc = 0;
  private accBits = 0;

  constructor(initialBytes = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
  }

  /** Bits written so far. */
  get bitLength(): number {
    return this.byteLen * 8 + this.accBits;
  }

  /** Appends the low `nBits` bits of `value`, most significant first. `value` must fit in them. */
  write(value: number, nBits: number): void {
    checkWidth('BitWriter.write', nBits);
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** nBits) {
      throw new RangeError(`BitWriter.write: value must be an integer in [0, 2^${nBits}), got ${value}`);
    }
    if (nBits > 24) {
      this.put(Math.floor(value / 65536), nBits - 16);
      this.put(value & 0xffff, 16);
    } else {
      this.put(value, nBits);
    }
  }

  /**
   * `write` after validation. Requires nBits ≤ 24 and 0 ≤ value < 2^nBits: with < 8 pending bits
   * the accumulator then stays below 2^31, so the int32 shifts cannot overflow.
   */
  private put(value: number, nBits: number): void {
    let acc = (this.acc << nBits) | value;
    let bits = this.accBits + nBits;
    if (bits >= 8) {
      if (this.byteLen + 4 > this.buf.length) this.grow();
      const buf = this.buf;
      let n = this.byteLen;
      while (bits >= 8) {
        bits -= 8;
        buf[n++] = acc >>> bits;
      }
      this.byteLen = n;
      acc &= (1 << bits) - 1;
    }
    this.acc = acc;
    this.accBits = bits;
  }

  /**
   * Bulk table-driven write: for each symbol s, `codes[s]` in `lengths[s]` bits — Huffman coding,
   * or fixed-width packing with an identity table. The caller guarantees every symbol has a
   * length and codes fit their lengths.
   */
  writeSymbols(symbols: ArrayLike<number>, codes: Uint32Array, lengths: Uint8Array): void {
    let maxLen = 0;
    for (let s = 0; s < lengths.length; s++) if (lengths[s] > maxLen) maxLen = lengths[s];
    if (maxLen > 24) {
      for (let i = 0; i < symbols.length; i++) this.write(codes[symbols[i]], lengths[symbols[i]]);
      return;
    }
    const need = this.byteLen + Math.ceil((symbols.length * maxLen) / 8) + 4;
    if (need > this.buf.length) this.grow(need);
    const state = new Int32Array([this.acc, this.accBits]);
    this.byteLen = packSymbols(this.buf, this.byteLen, state, symbols, codes, lengths);
    this.acc = state[0];
    this.accBits = state[1];
  }

  /**
   * The bytes written so far, the last one zero-padded on the right, and the exact bit count.
   * Does not reset the writer: writing may continue and `finish` be called again.
   */
  finish(): { bytes: Uint8Array; bitLength: number } {
    const bitLength = this.bitLength;
    const bytes = new Uint8Array(Math.ceil(bitLength / 8));
    bytes.set(this.buf.subarray(0, this.byteLen));
    if (this.accBits > 0) bytes[this.byteLen] = (this.acc << (8 - this.accBits)) & 0xff;
    return { bytes, bitLength };
  }

  private grow(atLeast = 0): void {
    const next = new Uint8Array(Math.max(this.buf.length * 2, atLeast));
    next.set(this.buf.subarray(0, this.byteLen));
    this.buf = next;
  }
}
