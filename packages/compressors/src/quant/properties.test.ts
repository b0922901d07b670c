/**
 * Seeded property tests over every scheme × granularity × mask: random shapes, bit widths and
 * weight distributions (Gaussian at scales from 1e-4 to 1e3, coarse grids with many ties, weights
 * that are mostly zero, a few huge outliers).
 */
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '@squash/core';
import { QUANT_SCHEMES, type QuantizedTensor, type QuantScheme } from '../quantized_tensor.js';
import { layoutOf } from './common.js';
import { codebookFromParams, dequantize, quantizeTensor, SCHEME_BITS } from './index.js';

interface Case {
  values: Float32Array;
  shape: number[];
  bits: number;
  channelAxis: number | null;
  mask?: Uint8Array;
}

function randomCase(rng: Rng, scheme: QuantScheme, channelAxis: 'tensor' | 'last' | 'first', masked: boolean): Case {
  const rank = 1 + rng.int(4);
  const shape = Array.from({ length: rank }, () => 1 + rng.int(rank > 2 ? 6 : 40));
  const n = shape.reduce((a, b) => a * b, 1);
  const sigma = 10 ** (rng.next() * 7 - 4);
  const kind = rng.int(4);
  const values = new Float32Array(n).map(() => {
    if (kind === 1) return (rng.int(9) - 4) * sigma; // coarse: ties everywhere
    if (kind === 2) return rng.next() < 0.7 ? 0 : rng.normal() * sigma; // mostly zero
    if (kind === 3 && rng.next() < 0.01) return rng.normal() * sigma * 1e3; // outliers
    return rng.normal() * sigma;
  });
  const { min, max } = SCHEME_BITS[scheme];
  const bits = min + rng.int(Math.min(max, 9) - min + 1);
  const mask = masked ? new Uint8Array(n).map(() => (rng.next() < 0.6 ? 1 : 0)) : undefined;
  return { values, shape, bits, channelAxis: channelAxis === 'tensor' ? null : channelAxis === 'last' ? -1 : 0, mask };
}

/** Channel of every element, as the QuantizedTensor contract defines it. */
function channelOf(q: QuantizedTensor): Int32Array {
  const { outer, channels, inner } = layoutOf(q.shape, q.channelAxis, q.codes.length, 'test');
  const ch = new Int32Array(q.codes.length);
  let i = 0;
  for (let o = 0; o < outer; o++) for (let c = 0; c < channels; c++) for (let j = 0; j < inner; j++) ch[i++] = c;
  return ch;
}

const bitsEqual = (a: Float32Array, b: Float32Array) =>
  a.length === b.length &&
  new Uint32Array(a.buffer, a.byteOffset, a.length).every(
    (x, i) => x === new Uint32Array(b.buffer, b.byteOffset, b.length)[i],
  );

const GRANULARITIES = ['tensor', 'last', 'first'] as const;
const TRIALS = 40;

describe.each(QUANT_SCHEMES.map((s) => [s]))('%s', (scheme) => {
  const each = (seed: number, fn: (c: Case, q: QuantizedTensor, label: string) => void) => {
    const rng = createRng(seed);
    for (const g of GRANULARITIES) {
      for (const masked of [false, true]) {
        for (let t = 0; t < TRIALS; t++) {
          const c = randomCase(rng, scheme, g, masked);
          const q = quantizeTensor(c.values, c.shape, { scheme, ...c });
          fn(c, q, `${g} masked=${masked} trial ${t} bits ${c.bits} shape [${c.shape}]`);
        }
      }
    }
  };

  it('codes < levels, bits = ceil(log2 levels), ≤ 2^bits distinct values per channel, zero codes decode to +0', () => {
    each(1, (c, q, label) => {
      expect(q.bits, label).toBe(Math.ceil(Math.log2(q.levels)));
      expect(q.bits, label).toBe(scheme === 'binary' && c.mask ? 2 : c.bits);
      const ch = channelOf(q);
      const channels = q.zeroCodes.length;
      expect(q.codebook.length).toBe(channels * q.levels);
      const d = dequantize(q);
      const distinct = Array.from({ length: channels }, () => new Set<number>());
      for (let i = 0; i < d.length; i++) {
        expect(q.codes[i], label).toBeLessThan(q.levels);
        distinct[ch[i]].add(d[i]);
      }
      for (const s of distinct) expect(s.size, label).toBeLessThanOrEqual(2 ** q.bits);
      for (let k = 0; k < channels; k++) {
        const z = q.zeroCodes[k];
        expect(z, label).toBeGreaterThanOrEqual(-1);
        if (z >= 0) expect(Object.is(q.codebook[k * q.levels + z], 0), label).toBe(true);
        if (c.mask) expect(z, label).toBeGreaterThanOrEqual(0);
      }
      expect(
        q.codebook.some((v) => Object.is(v, -0)),
        label,
      ).toBe(false);
    });
  });

  it('codebookFromParams(params) reproduces the codebook bit for bit', () => {
    each(2, (_c, q, label) => {
      const cb = codebookFromParams(q.scheme, q.bits, q.levels, q.params, q.zeroCodes.length);
      expect(bitsEqual(cb, q.codebook), label).toBe(true);
    });
  });

  it('quantizing twice changes nothing: dq(q(dq(q(w)))) === dq(q(w)) bit for bit', () => {
    each(3, (c, q, label) => {
      const once = dequantize(q);
      const twice = dequantize(quantizeTensor(once, c.shape, { scheme, ...c }));
      expect(bitsEqual(once, twice), label).toBe(true);
    });
  });

  it('masked elements decode to +0 and cannot influence anything else', () => {
    each(4, (c, q, label) => {
      if (!c.mask) return;
      const d = dequantize(q);
      const other = c.values.map((v, i) => (c.mask![i] ? v : i % 2 ? 1e6 : -3e4));
      const q2 = quantizeTensor(other, c.shape, { scheme, ...c });
      for (let i = 0; i < d.length; i++) if (!c.mask[i]) expect(Object.is(d[i], 0), label).toBe(true);
      expect(q2.codes, label).toEqual(q.codes);
      expect(bitsEqual(q2.codebook, q.codebook), label).toBe(true);
    });
  });

  if (scheme === 'symmetric' || scheme === 'asymmetric' || scheme === 'pow2') {
    it('uniform grids: |w − q| ≤ step/2 (exactly for pow2; up to float32 rounding of the scale otherwise)', () => {
      each(5, (c, q, label) => {
        const ch = channelOf(q);
        const d = dequantize(q);
        const per = scheme === 'asymmetric' ? 2 : 1;
        for (let i = 0; i < d.length; i++) {
          if (c.mask && !c.mask[i]) continue;
          const step = q.params[ch[i] * per];
          const err = Math.abs(d[i] - c.values[i]);
          // The float32 scale can sit a few ulps below the real one (fitScale), which narrows the
          // grid by levels · ulps; the output is rounded to float32 once more.
          const slack = scheme === 'pow2' ? 0 : q.levels * step * 2 ** -20 + Math.abs(c.values[i]) * 2 ** -23;
          expect(err, label).toBeLessThanOrEqual(step / 2 + slack);
        }
      });
    });
  }

  if (scheme === 'kmeans') {
    it('at convergence every used centroid is the float32 mean of its members (summed in ascending order)', () => {
      each(6, (c, q, label) => {
        const ch = channelOf(q);
        const members = new Map<number, number[]>();
        for (let i = 0; i < q.codes.length; i++) {
          if (c.mask && !c.mask[i]) continue;
          const key = ch[i] * q.levels + q.codes[i];
          (members.get(key) ?? members.set(key, []).get(key)!).push(c.values[i]);
        }
        for (const [key, m] of members) {
          m.sort((a, b) => a - b);
          const mean = Math.fround(m.reduce((s, v) => s + v, 0) / m.length);
          expect(q.codebook[key], label).toBe(mean + 0);
        }
      });
    });

    it('more weights than clusters: every cluster of 4M-like data is a contiguous run', () => {
      const rng = createRng(7);
      const w = new Float32Array(20000).map(() => rng.normal());
      const q = quantizeTensor(w, [w.length], { scheme: 'kmeans', bits: 4, channelAxis: null });
      const cb = Array.from(q.codebook);
      expect(cb).toEqual([...cb].sort((a, b) => a - b));
      for (let i = 0; i < w.length; i++) {
        const k = q.codes[i];
        // nearest centroid
        for (let j = 0; j < 16; j++) expect(Math.abs(w[i] - cb[k])).toBeLessThanOrEqual(Math.abs(w[i] - cb[j]));
      }
    });
  }
});
