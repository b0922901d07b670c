import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '@squash/core';
import { BitReader, BitWriter } from './bitstream.js';
import {
  canonicalCodes,
  huffmanCodeLengths,
  huffmanDecode,
  huffmanEncode,
  readCodeLengths,
  writeCodeLengths,
} from './huffman.js';

const kraft = (lengths: Uint8Array): number => Array.from(lengths).reduce((a, l) => a + (l > 0 ? 2 ** -l : 0), 0);
const cost = (freqs: ArrayLike<number>, lengths: Uint8Array): number =>
  Array.from(freqs).reduce((a, f, s) => a + f * lengths[s], 0);
const bitString = (code: number, len: number): string => code.toString(2).padStart(len, '0');

function roundTrip(symbols: ArrayLike<number>, lengths: Uint8Array): { decoded: Uint32Array; bits: number } {
  const w = new BitWriter();
  w.write(5, 3); // start mid-byte
  huffmanEncode(symbols, lengths, w);
  w.write(1, 1); // and let something follow the stream
  const { bytes, bitLength } = w.finish();
  const r = new BitReader(bytes, bitLength);
  expect(r.read(3)).toBe(5);
  const decoded = huffmanDecode(r, lengths, symbols.length);
  expect(r.read(1)).toBe(1);
  return { decoded, bits: bitLength - 4 };
}

function randomFreqs(rng: Rng, n: number): number[] {
  // Mix of skews: exponentials of a normal give anything from flat to very peaked.
  const skew = rng.next() * 3;
  return Array.from({ length: n }, () => (rng.next() < 0.2 ? 0 : Math.round(1 + 1000 * Math.exp(skew * rng.normal()))));
}

describe('huffmanCodeLengths / canonicalCodes', () => {
  it('the classic CLRS table: a:45 b:13 c:12 d:16 e:9 f:5', () => {
    const lengths = huffmanCodeLengths([45, 13, 12, 16, 9, 5]);
    expect(Array.from(lengths)).toEqual([1, 3, 3, 3, 4, 4]);
    const codes = canonicalCodes(lengths);
    expect(Array.from(codes, (c, s) => bitString(c, lengths[s]))).toEqual(['0', '100', '101', '110', '1110', '1111']);
    expect(cost([45, 13, 12, 16, 9, 5], lengths)).toBe(224); // CLRS: 224,000 bits for 100,000 characters
  });

  it('absent symbols get 0, a single present symbol gets length 1, none gives all zeros', () => {
    expect(Array.from(huffmanCodeLengths([0, 7, 0]))).toEqual([0, 1, 0]);
    expect(Array.from(huffmanCodeLengths([0, 0]))).toEqual([0, 0]);
    expect(Array.from(huffmanCodeLengths([]))).toEqual([]);
    expect(Array.from(huffmanCodeLengths([3, 0, 3]))).toEqual([1, 0, 1]);
  });

  it('property: prefix-free, Kraft sum = 1, within 1 bit of the entropy', () => {
    const rng = createRng(5);
    for (let t = 0; t < 60; t++) {
      const freqs = randomFreqs(rng, 2 + rng.int(60));
      const lengths = huffmanCodeLengths(freqs, 32);
      const present = freqs
        .map((f, s) => [f, s])
        .filter(([f]) => f > 0)
        .map(([, s]) => s);
      if (present.length < 2) continue;
      expect(kraft(lengths)).toBe(1); // a Huffman tree is full
      const codes = canonicalCodes(lengths);
      const strings = present.map((s) => bitString(codes[s], lengths[s]));
      for (const a of strings)
        for (const b of strings) if (a !== b) expect(b.startsWith(a), `${a} prefixes ${b}`).toBe(false);
      expect(new Set(strings).size).toBe(strings.length);
      const total = freqs.reduce((a, b) => a + b, 0);
      const entropy = -freqs.reduce((a, f) => a + (f > 0 ? (f / total) * Math.log2(f / total) : 0), 0);
      const avg = cost(freqs, lengths) / total;
      expect(avg).toBeGreaterThanOrEqual(entropy - 1e-9);
      expect(avg).toBeLessThan(entropy + 1);
    }
  });

  it('max length is respected on a Fibonacci table, with Kraft ≤ 1', () => {
    const fib = [1, 1];
    while (fib.length < 40) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);
    expect(Math.max(...huffmanCodeLengths(fib, 32).subarray(0, 30))).toBeGreaterThan(24); // the plain tree is 39 deep
    for (const L of [6, 10, 24]) {
      const lengths = huffmanCodeLengths(fib, L);
      expect(Math.max(...lengths)).toBeLessThanOrEqual(L);
      expect(kraft(lengths)).toBeLessThanOrEqual(1);
      expect(Math.min(...lengths)).toBeGreaterThan(0);
      const { decoded } = roundTrip([0, 39, 1, 38, 20], lengths);
      expect(Array.from(decoded)).toEqual([0, 39, 1, 38, 20]);
    }
    expect(() => huffmanCodeLengths(fib, 5)).toThrow(/40 symbols cannot all get codes of at most 5 bits/);
  });

  it('package-merge is optimal: matches a brute-force search over small tables', () => {
    const rng = createRng(9);
    for (let t = 0; t < 25; t++) {
      const n = 3 + rng.int(5);
      const L = Math.ceil(Math.log2(n)) + rng.int(2);
      const freqs = Array.from({ length: n }, (_, i) => (i < 2 ? 1 : 1 + rng.int(2 ** (i + 1))));
      let best = Infinity;
      const len = new Uint8Array(n);
      const search = (i: number, room: number): void => {
        if (i === n) {
          best = Math.min(best, cost(freqs, len));
          return;
        }
        for (let l = 1; l <= L; l++) {
          if (2 ** -l <= room + 1e-12) {
            len[i] = l;
            search(i + 1, room - 2 ** -l);
          }
        }
      };
      search(0, 1);
      const lengths = huffmanCodeLengths(freqs, L);
      expect(Math.max(...lengths)).toBeLessThanOrEqual(L);
      expect(cost(freqs, lengths), `freqs ${freqs} L ${L}`).toBe(best);
    }
  });

  it('rejects bad frequencies, bad maxLength and over-subscribed lengths', () => {
    expect(() => huffmanCodeLengths([1, -1])).toThrow(/got -1 for symbol 1/);
    expect(() => huffmanCodeLengths([1, NaN])).toThrow(RangeError);
    expect(() => huffmanCodeLengths([1, 2], 0)).toThrow(/maxLength must be an integer in \[1, 32\]/);
    expect(() => canonicalCodes(new Uint8Array([1, 1, 1]))).toThrow(/over-subscribed/);
  });
});

describe('huffmanEncode / huffmanDecode', () => {
  it('decode(encode(x)) == x for random skewed inputs, and the stream has exactly the code bits', () => {
    const rng = createRng(21);
    for (let t = 0; t < 20; t++) {
      const alphabet = 2 + rng.int(300);
      const freqs = randomFreqs(rng, alphabet);
      freqs[rng.int(alphabet)] += 1; // at least one present symbol
      const total = freqs.reduce((a, b) => a + b, 0);
      const symbols = new Uint16Array(5000).map(() => {
        let x = rng.next() * total;
        let s = 0;
        while (x >= freqs[s]) x -= freqs[s++];
        return s;
      });
      const lengths = huffmanCodeLengths(freqs, 12 + rng.int(13));
      const { decoded, bits } = roundTrip(symbols, lengths);
      expect(decoded).toEqual(Uint32Array.from(symbols));
      expect(bits).toBe(symbols.reduce((a, s) => a + lengths[s], 0));
    }
  });

  it('single-symbol input costs one bit per symbol; empty input costs nothing', () => {
    const lengths = huffmanCodeLengths([0, 0, 9]);
    const { decoded, bits } = roundTrip([2, 2, 2, 2, 2, 2, 2, 2, 2], lengths);
    expect(Array.from(decoded)).toEqual(Array(9).fill(2));
    expect(bits).toBe(9);
    const empty = roundTrip([], huffmanCodeLengths([]));
    expect(empty.decoded.length).toBe(0);
    expect(empty.bits).toBe(0);
  });

  it('a 2^16 alphabet round-trips, long codes (slow path) included', () => {
    const rng = createRng(4);
    const n = 1 << 16;
    const symbols = new Uint32Array(300_000).map(() => Math.min(n - 1, Math.floor(-Math.log(1 - rng.next()) * 3000)));
    symbols[0] = n - 1;
    const freqs = new Float64Array(n);
    for (const s of symbols) freqs[s]++;
    const lengths = huffmanCodeLengths(freqs, 24);
    expect(Math.max(...lengths)).toBeGreaterThan(11);
    expect(roundTrip(symbols, lengths).decoded).toEqual(symbols);
  });

  it('errors: a symbol without a code, a stream too short, an invalid bit pattern', () => {
    const lengths = huffmanCodeLengths([5, 5, 0]);
    expect(() => huffmanEncode([0, 2], lengths, new BitWriter())).toThrow(/symbol 2 at index 1 has no code/);
    expect(() => huffmanEncode([3], lengths, new BitWriter())).toThrow(/symbol 3 at index 0 has no code/);
    expect(() => huffmanDecode(new BitReader(new Uint8Array([0]), 3), lengths, 4)).toThrow(
      /within 3 bits, but they need 4/,
    );
    // The single-symbol code is "0": a 1 bit matches nothing.
    expect(() => huffmanDecode(new BitReader(new Uint8Array([0x40])), new Uint8Array([1]), 3)).toThrow(
      /no code matches the bits at position 1/,
    );
    expect(() => huffmanDecode(new BitReader(new Uint8Array(1)), new Uint8Array(3), 1)).toThrow(/code table is empty/);
  });
});

describe('writeCodeLengths / readCodeLengths', () => {
  it('round-trips, compactly', () => {
    const rng = createRng(8);
    for (const n of [0, 1, 7, 32, 256, 1 << 16]) {
      const lengths = new Uint8Array(n).map(() => (rng.next() < 0.9 ? 0 : 1 + rng.int(24)));
      const w = new BitWriter();
      writeCodeLengths(lengths, w);
      const { bytes, bitLength } = w.finish();
      const r = new BitReader(bytes, bitLength);
      expect(readCodeLengths(r)).toEqual(lengths);
      expect(r.remaining).toBe(0);
    }
    // Size: 32 bits of alphabet size, then per run 6 bits of length + an Elias gamma run length.
    const lengths = new Uint8Array([
      5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4,
    ]);
    const w = new BitWriter();
    writeCodeLengths(lengths, w);
    expect(w.finish().bitLength).toBe(32 + (6 + 7) + (6 + 5) + (6 + 9) + (6 + 1));
  });

  it('rejects a run that overruns the alphabet', () => {
    const w = new BitWriter();
    w.write(2, 32); // 2 symbols
    w.write(3, 6); // length 3
    w.write(0b011, 3); // run of 3 (gamma)
    expect(() => readCodeLengths(new BitReader(w.finish().bytes))).toThrow(
      /run of 3 at symbol 0 overruns the alphabet of 2/,
    );
  });
});
