import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { BitReader, BitWriter } from './bitstream.js';

describe('BitWriter / BitReader', () => {
  it('writes MSB-first and zero-pads the last byte', () => {
    const w = new BitWriter();
    w.write(0b101, 3);
    w.write(0b1, 1);
    w.write(0b0011, 4); // first byte complete: 1011 0011
    w.write(0b11, 2);
    const { bytes, bitLength } = w.finish();
    expect(bitLength).toBe(10);
    expect(Array.from(bytes)).toEqual([0b10110011, 0b11000000]);
    const r = new BitReader(bytes, bitLength);
    expect([r.read(3), r.readBit(), r.read(4), r.read(2)]).toEqual([0b101, 1, 0b0011, 0b11]);
    expect(r.position).toBe(10);
    expect(r.remaining).toBe(0);
  });

  it('32-bit values, straddling byte boundaries at every offset', () => {
    const values = [0xffffffff, 0x80000001, 0, 0x12345678, 2 ** 31];
    for (let skew = 0; skew < 8; skew++) {
      const w = new BitWriter(16);
      w.write(0, skew);
      for (const v of values) w.write(v, 32);
      const { bytes, bitLength } = w.finish();
      expect(bitLength).toBe(skew + 32 * values.length);
      const r = new BitReader(bytes, bitLength);
      expect(r.read(skew)).toBe(0);
      expect(values.map(() => r.read(32))).toEqual(values);
    }
  });

  it('round-trips random widths 0..32 through buffer growth', () => {
    const rng = createRng(3);
    const items = Array.from({ length: 20000 }, () => {
      const n = rng.int(33);
      return [Math.floor(rng.next() * 2 ** n), n] as const;
    });
    const w = new BitWriter(16);
    for (const [v, n] of items) w.write(v, n);
    const { bytes, bitLength } = w.finish();
    expect(bitLength).toBe(items.reduce((a, [, n]) => a + n, 0));
    expect(bytes.length).toBe(Math.ceil(bitLength / 8));
    const r = new BitReader(bytes, bitLength);
    for (const [v, n] of items) expect(r.read(n)).toBe(v);
  });

  it('readMany equals repeated read, for every width, offset and stream tail', () => {
    const rng = createRng(6);
    for (let nBits = 0; nBits <= 32; nBits++) {
      for (const skew of [0, 3, 7]) {
        const count = rng.int(40);
        const w = new BitWriter();
        w.write(0, skew);
        const values = Array.from({ length: count }, () => Math.floor(rng.next() * 2 ** nBits));
        for (const v of values) w.write(v, nBits);
        const { bytes, bitLength } = w.finish();
        const r = new BitReader(bytes, bitLength);
        r.read(skew);
        expect(Array.from(r.readMany(nBits, count))).toEqual(values);
        expect(r.position).toBe(bitLength);
      }
    }
    expect(() => new BitReader(new Uint8Array(2)).readMany(5, 4)).toThrow(
      /expected 4 values of 5 bits at bit 0, but the stream has only 16 bits/,
    );
  });

  it('writeSymbols equals one write per symbol, codes longer than 24 bits included', () => {
    const rng = createRng(7);
    for (const maxLen of [8, 24, 32]) {
      const lengths = new Uint8Array(50).map(() => 1 + rng.int(maxLen));
      const codes = Uint32Array.from(lengths, (l) => Math.floor(rng.next() * 2 ** l));
      const symbols = new Uint16Array(3000).map(() => rng.int(50));
      const a = new BitWriter(16);
      a.write(1, 3);
      a.writeSymbols(symbols, codes, lengths);
      const b = new BitWriter(16);
      b.write(1, 3);
      for (const s of symbols) b.write(codes[s], lengths[s]);
      expect(a.finish()).toEqual(b.finish());
    }
  });

  it('finish does not reset: writing continues after it', () => {
    const w = new BitWriter();
    w.write(1, 1);
    expect(Array.from(w.finish().bytes)).toEqual([0x80]);
    w.write(0x7f, 7);
    expect(w.finish()).toEqual({ bytes: new Uint8Array([0xff]), bitLength: 8 });
  });

  it('an empty stream is zero bytes', () => {
    expect(new BitWriter().finish()).toEqual({ bytes: new Uint8Array(0), bitLength: 0 });
  });

  it('rejects values that do not fit, bad widths, and reads past the end', () => {
    const w = new BitWriter();
    expect(() => w.write(8, 3)).toThrow(/value must be an integer in \[0, 2\^3\), got 8/);
    expect(() => w.write(-1, 3)).toThrow(RangeError);
    expect(() => w.write(1.5, 3)).toThrow(RangeError);
    expect(() => w.write(2 ** 32, 32)).toThrow(RangeError);
    expect(() => w.write(0, 33)).toThrow(/nBits must be an integer in \[0, 32\], got 33/);
    const r = new BitReader(new Uint8Array([0xff]), 5);
    expect(r.read(4)).toBe(15);
    expect(() => r.read(2)).toThrow(/expected 2 more bits at bit 4, but the stream has only 1/);
    r.readBit();
    expect(() => r.readBit()).toThrow(/stream has ended/);
    expect(() => new BitReader(new Uint8Array(1), 9)).toThrow(RangeError);
  });
});
