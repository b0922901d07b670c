import { describe, expect, it } from 'vitest';
import { BitReader } from './bit_reader.js';
import { deriveCodebook } from './codebook.js';
import { canonicalCodes, huffmanDecode, readCodeLengths } from './huffman.js';
import { decodeRelativeIndices } from './relative_index.js';

describe('BitReader', () => {
  it('reads MSB-first across byte boundaries', () => {
    const r = new BitReader(Uint8Array.of(0b1011_0010, 0b0100_0000), 10);
    expect(r.read(1)).toBe(1);
    expect(r.read(3)).toBe(0b011);
    expect(r.read(5)).toBe(0b00100);
    expect(r.readBit()).toBe(1);
    expect(r.remaining).toBe(0);
    expect(() => r.readBit()).toThrow(/expected 1 more bit at bit 10, but the stream has ended/);
  });

  it('reads 32-bit values without turning them negative', () => {
    expect(new BitReader(Uint8Array.of(0xff, 0xff, 0xff, 0xfe)).read(32)).toBe(0xfffffffe);
  });

  it('readMany: the 3-byte fast path and the tail agree with single reads, for every width', () => {
    const bytes = Uint8Array.from({ length: 40 }, (_, i) => (i * 97 + 13) & 0xff);
    for (let bits = 0; bits <= 32; bits++) {
      const count = Math.floor((bytes.length * 8) / Math.max(bits, 1));
      const one = new BitReader(bytes);
      const expected = Array.from({ length: count }, () => one.read(bits));
      expect(Array.from(new BitReader(bytes).readMany(bits, count)), `${bits} bits`).toEqual(expected);
    }
    expect(() => new BitReader(new Uint8Array(2)).readMany(5, 4)).toThrow(/expected 4 values of 5 bits at bit 0/);
  });
});

describe('canonical Huffman decoding of a hand-computed code', () => {
  // Lengths A:2 B:1 C:3 D:3 give B = 0, A = 10, C = 110, D = 111 (shorter first, ties by symbol).
  const lengths = Uint8Array.of(2, 1, 3, 3);

  it('canonicalCodes', () => {
    expect(Array.from(canonicalCodes(lengths))).toEqual([0b10, 0b0, 0b110, 0b111]);
    expect(() => canonicalCodes(Uint8Array.of(1, 1, 1))).toThrow(/over-subscribed/);
  });

  it('decodes A B C D B B A: 10 0 110 111 0 0 10 (+ padding)', () => {
    const r = new BitReader(Uint8Array.of(0b1001_1011, 0b1001_0000));
    expect(Array.from(huffmanDecode(r, lengths, 7))).toEqual([0, 1, 2, 3, 1, 1, 0]);
    expect(r.position).toBe(13);
  });

  it('a longer stream (through the table fast path) decodes the same', () => {
    // "A B C D B B A" is 13 bits; 8 of them fill 13 bytes exactly.
    const bits = '1001101110010'.repeat(8);
    const bytes = Uint8Array.from({ length: bits.length / 8 }, (_, i) =>
      Number.parseInt(bits.slice(i * 8, i * 8 + 8), 2),
    );
    const r = new BitReader(bytes);
    expect(Array.from(huffmanDecode(r, lengths, 56))).toEqual(
      Array.from({ length: 8 }, () => [0, 1, 2, 3, 1, 1, 0]).flat(),
    );
    expect(r.remaining).toBe(0);
  });

  it('rejects streams that end early, bit patterns with no code, and counts no stream could hold', () => {
    // "10" is A; C's "110" would need a fifth bit.
    expect(() => huffmanDecode(new BitReader(Uint8Array.of(0b1011_0000), 4), lengths, 2)).toThrow(
      /expected 2 symbols within 4 bits, but they need 5/,
    );
    // The lone-symbol code is "0": a 1 bit matches nothing.
    expect(() => huffmanDecode(new BitReader(Uint8Array.of(0x40)), Uint8Array.of(1), 3)).toThrow(
      /no code matches the bits at position 1/,
    );
    expect(() => huffmanDecode(new BitReader(new Uint8Array(4)), lengths, 2 ** 31)).toThrow(
      /expected 2147483648 symbols within 32 bits/,
    );
  });
});

describe('readCodeLengths', () => {
  // Alphabet 4 (32 bits), then runs (length 6 bits, Elias gamma run): (2, 1) (1, 1) (3, 2).
  const bits = ['0'.repeat(29), '100', '000010', '1', '000001', '1', '000011', '010'].join('');
  const bytes = Uint8Array.from({ length: Math.ceil(bits.length / 8) }, (_, i) =>
    Number.parseInt(bits.slice(i * 8, i * 8 + 8).padEnd(8, '0'), 2),
  );

  it('reads a hand-built table', () => {
    const r = new BitReader(bytes, bits.length);
    expect(Array.from(readCodeLengths(r))).toEqual([2, 1, 3, 3]);
    expect(r.remaining).toBe(0);
  });

  it('with an expected alphabet, rejects another size before reading on', () => {
    expect(() => readCodeLengths(new BitReader(bytes), 32)).toThrow(/expected an alphabet of 32 symbols, found 4/);
    const huge = Uint8Array.of(0xff, 0xff, 0xff, 0xff);
    expect(() => readCodeLengths(new BitReader(huge))).toThrow(/at most 2\^24 symbols, found 4294967295/);
  });
});

describe('relative indices and codebooks', () => {
  it("Deep Compression's Figure 2: stored 1, 2, 7, 2 (3-bit gaps) are positions 1, 4, 12, 15", () => {
    expect(Array.from(decodeRelativeIndices(Uint32Array.of(1, 2, 7, 2)))).toEqual([1, 4, 12, 15]);
  });

  it('deriveCodebook: the formulas of each params scheme, rounded once to float32, −0 made +0', () => {
    const f = (a: number[]) => Float32Array.from(a);
    expect(deriveCodebook('symmetric', 3, f([0.5]), 1)).toEqual(f([-0.5, 0, 0.5]));
    expect(deriveCodebook('pow2', 4, f([0.25, 1]), 2)).toEqual(f([-0.375, -0.125, 0.125, 0.375, -1.5, -0.5, 0.5, 1.5]));
    expect(deriveCodebook('asymmetric', 4, f([0.1, 1]), 1)).toEqual(f([-0.1, 0, 0.1, Math.fround(0.1) * 2]));
    expect(deriveCodebook('binary', 2, f([0.3]), 1)).toEqual(f([-0.3, 0.3]));
    expect(deriveCodebook('binary', 3, f([0.3]), 1)).toEqual(f([-0.3, 0, 0.3]));
    expect(deriveCodebook('ternary', 3, f([2]), 1)).toEqual(f([-2, 0, 2]));
    expect(Object.is(deriveCodebook('symmetric', 3, f([-0.5]), 1)![1], 0)).toBe(true);
    expect(deriveCodebook('kmeans', 3, f([1, 2, 3]), 1)).toBeNull();
    expect(deriveCodebook('symmetric', 3, f([1, 2]), 1)).toBeNull();
  });
});
