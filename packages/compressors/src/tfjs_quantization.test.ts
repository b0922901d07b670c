import { createRng } from '@squash/core';
import { describe, expect, it } from 'vitest';
import { float16Bits, float16Value } from './float16.js';
import { quantizeAsymmetric, quantizeSymmetric } from './quant/index.js';
import { dequantizeTfjs, quantizeForTfjs } from './tfjs_quantization.js';

const f32 = (xs: number[]) => Float32Array.from(xs);
const uint16s = (bytes: Uint8Array) =>
  Array.from({ length: bytes.length / 2 }, (_, i) => bytes[2 * i]! | (bytes[2 * i + 1]! << 8));

describe('float16 (numpy astype(float16) bits, tfjs decoder values)', () => {
  // Bits from numpy 2: np.array([x], np.float32).astype(np.float16).view(np.uint16).
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [65519, 0x7bff],
    [65520, 0x7c00], // halfway to 65536: the tie rounds to even, i.e. overflows to Infinity
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // half the smallest subnormal: ties to even (0)
    [3 * 2 ** -25, 0x0002], // 1.5 subnormal steps: ties to even (2)
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [2 ** -14, 0x0400],
    [6.1e-5, 0x03ff],
    [-0, 0x8000],
  ])('%d → 0x%s', (x, bits) => {
    expect(float16Bits(x)).toBe(bits);
  });

  it('decodes as tfjs does', () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x7c00, 0xfc00, 0x0001, 0x2e66, 0x03ff].map(float16Value)).toEqual([
      1,
      -2,
      65504,
      Infinity,
      -Infinity,
      2 ** -24,
      0.0999755859375,
      1023 * 2 ** -24,
    ]);
  });

  it('every half value encodes back to its own bits', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaNs
      expect(float16Bits(float16Value(h)), `0x${h.toString(16)}`).toBe(h);
    }
  });
});

describe('quantizeForTfjs: float16', () => {
  it('is exact when every value is a half, else says how far off it is', () => {
    const exact = quantizeForTfjs(f32([1, 0.5, -2, 0]), 'float16');
    expect(exact.quantization).toEqual({ dtype: 'float16', original_dtype: 'float32' });
    expect(uint16s(exact.bytes)).toEqual([0x3c00, 0x3800, 0xc000, 0x0000]);
    expect(exact).toMatchObject({ exact: true, maxAbsError: 0 });
    const lossy = quantizeForTfjs(f32([1, 0.1]), 'float16');
    expect(lossy.exact).toBe(false);
    expect(lossy.maxAbsError).toBe(Math.fround(0.1) - 0.0999755859375);
    expect(quantizeForTfjs(f32([70000]), 'float16').maxAbsError).toBe(Infinity);
  });
});

describe('quantizeForTfjs: uint8 and uint16', () => {
  it('finds the grid of a symmetric codebook: codes are the levels, every value decodes bit-exactly', () => {
    const s = Math.fround(0.01);
    const levels = [-127, -5, 0, 3, 127];
    const values = f32(levels.map((j) => j * s));
    const w = quantizeForTfjs(values, 'uint8');
    // 254 steps from −127·s to 127·s: code = level + 127.
    expect(Array.from(w.bytes)).toEqual([0, 122, 127, 130, 254]);
    expect(w).toMatchObject({ exact: true, maxAbsError: 0 });
    expect(w.quantization).toMatchObject({ dtype: 'uint8', original_dtype: 'float32' });
    expect(dequantizeTfjs(w.bytes, w.quantization, 5)).toEqual(values);
  });

  it('uses the coarsest grid through the values (a grid the converter would not pick)', () => {
    // −0.7 … 1.2 in 38 steps of 0.05: 0.1 is code 16, 0.35 code 21. The converter's 255 steps miss both.
    const values = f32([-0.7, 0.1, 0.35, 1.2, 0.1]);
    const w = quantizeForTfjs(values, 'uint8');
    expect(Array.from(w.bytes)).toEqual([0, 16, 21, 38, 16]);
    expect(w.exact).toBe(true);
    expect(dequantizeTfjs(w.bytes, w.quantization, 5)).toEqual(values);
    // Two values are always a grid; one value is code 0 with scale 1, as the converter writes it.
    expect(Array.from(quantizeForTfjs(f32([3, -1, 3]), 'uint8').bytes)).toEqual([1, 0, 1]);
    expect(quantizeForTfjs(f32([0.3, 0.3]), 'uint16')).toMatchObject({
      quantization: { min: Math.fround(0.3), scale: 1 },
      exact: true,
    });
  });

  it('falls back to the converter: min/max affine, zero nudged onto a code, half to even', () => {
    // Expected from tensorflowjs/quantization.py (numpy 2) on np.float32([0, 1, sqrt(2)]), uint8:
    // codes [0, 180, 255], min −0.0, scale 0.005545935443803376, 1 decodes to 0.9982683658599854.
    const values = f32([0, 1, Math.SQRT2]);
    const w = quantizeForTfjs(values, 'uint8');
    expect(Array.from(w.bytes)).toEqual([0, 180, 255]);
    expect(w.quantization).toEqual({ dtype: 'uint8', min: 0, scale: 0.005545935443803376, original_dtype: 'float32' });
    expect(w.exact).toBe(false);
    expect(w.maxAbsError).toBe(0.0017316341400146484);
    expect(Array.from(dequantizeTfjs(w.bytes, w.quantization, 3))).toEqual([
      0,
      0.9982683658599854,
      Math.fround(Math.SQRT2),
    ]);
  });

  it('writes uint16 codes little-endian', () => {
    const s = Math.fround(1 / 3000);
    const values = f32([-1000 * s, 0, 300 * s, 32767 * s]);
    const w = quantizeForTfjs(values, 'uint16');
    expect(w.exact).toBe(true);
    expect(uint16s(w.bytes)).toEqual([0, 1000, 1300, 33767]);
    expect(Array.from(w.bytes.subarray(0, 4))).toEqual([0, 0, 1000 & 0xff, 1000 >> 8]);
  });

  it("is exact for every per-tensor symmetric and asymmetric codebook of Squash's quantizers, pruned zeros included", () => {
    const rng = createRng(7);
    for (let trial = 0; trial < 40; trial++) {
      const n = 400;
      const scale = 10 ** (rng.next() * 4 - 3);
      const values = Float32Array.from({ length: n }, () => (rng.next() - 0.4) * scale);
      const mask = Uint8Array.from({ length: n }, () => (rng.next() < 0.6 ? 1 : 0));
      for (const quantize of [quantizeSymmetric, quantizeAsymmetric]) {
        for (const bits of [2, 4, 8, 12]) {
          const q = quantize(values, [n], { bits, channelAxis: null, mask });
          const cb = q.codebook;
          const dequantized = Float32Array.from(q.codes, (c) => cb[c]!);
          const dtype = bits <= 8 ? 'uint8' : 'uint16';
          const w = quantizeForTfjs(dequantized, dtype);
          const label = `${quantize.name} bits ${bits} scale ${scale}`;
          expect(w.exact, label).toBe(true);
          expect(dequantizeTfjs(w.bytes, w.quantization, n), label).toEqual(dequantized);
        }
      }
    }
  });

  it('reports the error of a tensor no grid fits, and refuses non-finite values', () => {
    const rng = createRng(3);
    const values = Float32Array.from({ length: 1000 }, () => rng.next() * 2 - 1);
    const w = quantizeForTfjs(values, 'uint8');
    expect(w.exact).toBe(false);
    const scale = (w.quantization as { scale: number }).scale;
    expect(w.maxAbsError).toBeGreaterThan(0);
    expect(w.maxAbsError).toBeLessThanOrEqual(scale / 2 + 1e-7);
    expect(() => quantizeForTfjs(f32([1, NaN]), 'uint8')).toThrow(/value NaN at index 1 is not finite/);
    expect(() => quantizeForTfjs(f32([1]), 'int4' as 'uint8')).toThrow(/dtype must be one of uint8, uint16, float16/);
  });
});
