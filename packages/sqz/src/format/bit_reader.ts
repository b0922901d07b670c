/**
 * MSB-first bit streams, read side: the first bit of a stream is the most significant bit of its
 * first byte, so a code's bits appear in the file in the order they are read — the convention of
 * canonical Huffman decoding, which compares codes as big-endian integers. Values of up to 32 bits.
 * The writer (`BitWriter`) lives in @squash/compressors.
 */

function checkWidth(fn: string, nBits: number): void {
  if (!Number.isInteger(nBits) || nBits < 0 || nBits > 32) {
    throw new RangeError(`${fn}: nBits must be an integer in [0, 32], got ${nBits}`);
  }
}

export class BitReader {
  readonly bytes: Uint8Array;
  /** Readable bits; by default every bit of `bytes`, less when the last byte is padding. */
  readonly bitLength: number;
  private pos = 0;

  constructor(bytes: Uint8Array, bitLength = bytes.length * 8) {
    if (!Number.isInteger(bitLength) || bitLength < 0 || bitLength > bytes.length * 8) {
      throw new RangeError(`BitReader: bitLength must be an integer in [0, ${bytes.length * 8}], got ${bitLength}`);
    }
    this.bytes = bytes;
    this.bitLength = bitLength;
  }

  /** Bits consumed so far. Settable, for decoders that read `bytes` directly and then catch up. */
  get position(): number {
    return this.pos;
  }

  set position(p: number) {
    if (!Number.isInteger(p) || p < 0 || p > this.bitLength) {
      throw new RangeError(`BitReader: position must be an integer in [0, ${this.bitLength}], got ${p}`);
    }
    this.pos = p;
  }

  get remaining(): number {
    return this.bitLength - this.pos;
  }

  /** The next `nBits` bits as an unsigned integer, most significant first. */
  read(nBits: number): number {
    checkWidth('BitReader.read', nBits);
    if (this.pos + nBits > this.bitLength) {
      throw new RangeError(
        `BitReader: expected ${nBits} more bits at bit ${this.pos}, but the stream has only ${this.remaining}`,
      );
    }
    const bytes = this.bytes;
    let pos = this.pos;
    let out = 0;
    let need = nBits;
    while (need > 0) {
      const avail = 8 - (pos & 7);
      const take = Math.min(avail, need);
      const bits = (bytes[pos >>> 3] >>> (avail - take)) & ((1 << take) - 1);
      // Multiply rather than shift: a 32-bit result would turn negative under `<<`.
      out = out * (1 << take) + bits;
      pos += take;
      need -= take;
    }
    this.pos = pos;
    return out;
  }

  /** `count` values of `nBits` each (≤ 17 for the fast path), as by `count` calls of `read`. */
  readMany(nBits: number, count: number): Uint32Array {
    checkWidth('BitReader.readMany', nBits);
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`BitReader.readMany: count must be an integer ≥ 0, got ${count}`);
    if (this.pos + nBits * count > this.bitLength) {
      throw new RangeError(
        `BitReader: expected ${count} values of ${nBits} bits at bit ${this.pos}, but the stream has only ${this.remaining} bits`,
      );
    }
    const out = new Uint32Array(count);
    // Zero-width codes (a single-level codebook) are all 0 and consume nothing.
    if (nBits === 0) return out;
    let i = 0;
    if (nBits <= 17) {
      const cursor = new Float64Array([this.pos]);
      i = unpackFixed(this.bytes, cursor, nBits, out);
      this.pos = cursor[0];
    }
    for (; i < count; i++) out[i] = this.read(nBits);
    return out;
  }

  readBit(): number {
    if (this.pos >= this.bitLength) {
      throw new RangeError(`BitReader: expected 1 more bit at bit ${this.pos}, but the stream has ended`);
    }
    const p = this.pos++;
    return (this.bytes[p >>> 3] >>> (7 - (p & 7))) & 1;
  }
}

/**
 * The fast loop of `readMany`: values of ≤ 17 bits through a 3-byte window while the window lies
 * inside `bytes`. Returns how many values it read; the bit position travels in `cursor[0]`. Kept
 * outside the class with nothing but typed arrays and numbers inside: as a method, V8 (Node 20)
 * deoptimized it after every GC that collected all readers (their map goes, and with it the
 * property-access feedback), which cost 3–5× in benchmarks.
 */
function unpackFixed(bytes: Uint8Array, cursor: Float64Array, nBits: number, out: Uint32Array): number {
  const mask = nBits === 0 ? 0 : 2 ** nBits - 1;
  const shift = 24 - nBits;
  const fastEnd = (bytes.length - 2) * 8;
  let pos = cursor[0];
  let i = 0;
  while (i < out.length && pos < fastEnd) {
    const at = pos >>> 3;
    out[i++] = (((bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2]) >>> (shift - (pos & 7))) & mask;
    pos += nBits;
  }
  cursor[0] = pos;
  return i;
}
