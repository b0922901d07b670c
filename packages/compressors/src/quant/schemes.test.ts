/**
 * Hand-computed vectors for every scheme on one small dense kernel [in 3, out 2]:
 *
 *   W = [[ 0.5,   -1.5  ],     channel 0 (column 0): [0.5, 0.75, -0.375]
 *        [ 0.75,  -0.125],     channel 1 (column 1): [-1.5, -0.125, 1.5]
 *        [-0.375,  1.5  ]]
 *
 * The values are multiples of 1/8, so most scales are exact and the expected outputs are too.
 */
import { describe, expect, it } from 'vitest';
import type { QuantizedTensor, QuantScheme } from '../quantized_tensor.js';
import { dequantize, quantizeTensor } from './index.js';

const W = new Float32Array([0.5, -1.5, 0.75, -0.125, -0.375, 1.5]);
const SHAPE = [3, 2];
/** Prunes W[1][0] = 0.75, which we overwrite with 7 to show it cannot move any statistic. */
const MASK = new Uint8Array([1, 1, 0, 1, 1, 1]);
const W_MASKED = new Float32Array([0.5, -1.5, 7, -0.125, -0.375, 1.5]);
const f = Math.fround;

interface Expected {
  codes: number[];
  values: number[];
  params: number[];
  zeroCodes: number[];
  levels: number;
  bits: number;
}

function check(q: QuantizedTensor, e: Expected): void {
  expect(Array.from(q.codes)).toEqual(e.codes);
  expect(Array.from(dequantize(q))).toEqual(e.values.map(f));
  expect(Array.from(q.params)).toEqual(e.params.map(f));
  expect(Array.from(q.zeroCodes)).toEqual(e.zeroCodes);
  expect(q.levels).toBe(e.levels);
  expect(q.bits).toBe(e.bits);
  expect(q.shape).toEqual(SHAPE);
}

const run = (scheme: QuantScheme, bits: number, channelAxis: number | null, mask?: Uint8Array) =>
  quantizeTensor(mask ? W_MASKED : W, SHAPE, { scheme, bits, channelAxis, mask });

describe('symmetric', () => {
  it('3 bits per tensor: qmax 3, scale 1.5/3 = 0.5, codes = round(w/0.5) + 3', () => {
    // w/s = [1, -3, 1.5, -0.25, -0.75, 3] → [1, -3, 2, 0, -1, 3] (halves away from zero)
    const q = run('symmetric', 3, null);
    check(q, {
      codes: [4, 0, 5, 3, 2, 6],
      values: [0.5, -1.5, 1, 0, -0.5, 1.5],
      params: [0.5],
      zeroCodes: [3],
      levels: 7,
      bits: 3,
    });
    expect(q.channelAxis).toBeNull();
    expect(Array.from(q.codebook)).toEqual([-1.5, -1, -0.5, 0, 0.5, 1, 1.5]);
  });
  it('3 bits per channel: scales 0.75/3 = 0.25 and 1.5/3 = 0.5; axis −1 normalised to 1', () => {
    // ch0 w/s = [2, 3, -1.5] → [2, 3, -2]; ch1 [-3, -0.25, 3] → [-3, 0, 3]
    const q = run('symmetric', 3, -1);
    check(q, {
      codes: [5, 0, 6, 3, 1, 6],
      values: [0.5, -1.5, 0.75, 0, -0.5, 1.5],
      params: [0.25, 0.5],
      zeroCodes: [3, 3],
      levels: 7,
      bits: 3,
    });
    expect(q.channelAxis).toBe(1);
    expect(Array.from(q.codebook.subarray(0, 7))).toEqual([-0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75]);
  });
  it('per channel along axis 0 (rows): row 1 = [0.75, -0.125] gets scale 0.25', () => {
    // rows: [0.5, -1.5] s 0.5 → [1, -3]; [0.75, -0.125] s 0.25 → [3, -0.5→-1]; [-0.375, 1.5] s 0.5 → [-0.75→-1, 3]
    const q = run('symmetric', 3, 0);
    expect(Array.from(q.codes)).toEqual([4, 0, 6, 2, 2, 6]);
    expect(Array.from(q.params)).toEqual([0.5, 0.25, 0.5]);
  });
  it('with a mask: the pruned 7 is ignored (scale stays 0.5) and decodes to 0', () => {
    check(run('symmetric', 3, null, MASK), {
      codes: [4, 0, 3, 3, 2, 6],
      values: [0.5, -1.5, 0, 0, -0.5, 1.5],
      params: [0.5],
      zeroCodes: [3],
      levels: 7,
      bits: 3,
    });
    // ch0 keeps [0.5, -0.375] → scale 0.5/3, rounded down to float32 (fround(1/6) lies above 1/6,
    // and a grid wider than the range could leave its end codes unused); ch1 as before
    const q = run('symmetric', 3, -1, MASK);
    expect(Array.from(q.codes)).toEqual([6, 0, 3, 3, 1, 6]);
    expect(f(0.5 / 3)).toBeGreaterThan(0.5 / 3);
    expect(Array.from(q.params)).toEqual([0.1666666567325592, 0.5]);
  });
});

describe('asymmetric', () => {
  it('2 bits per tensor: range [-1.5, 1.5], scale 1, zeroPoint round(1.5) = 2 (grid shifts)', () => {
    // levels (k - 2)·1 = [-2, -1, 0, 1]; 1.5 saturates at 1, -1.5 rounds away to -2
    const q = run('asymmetric', 2, null);
    check(q, {
      codes: [3, 0, 3, 2, 2, 3],
      values: [1, -2, 1, 0, 0, 1],
      params: [1, 2],
      zeroCodes: [2],
      levels: 4,
      bits: 2,
    });
  });
  it('2 bits per channel: ch0 [-0.375, 0.75] → scale 0.375, zp 1; ch1 scale 1, zp 2', () => {
    const q = run('asymmetric', 2, -1);
    check(q, {
      codes: [2, 0, 3, 2, 0, 3],
      values: [0.375, -2, 0.75, 0, -0.375, 1],
      params: [0.375, 1, 1, 2],
      zeroCodes: [1, 2],
      levels: 4,
      bits: 2,
    });
  });
  it('1 bit: two levels, one of them 0', () => {
    // range [-1.5, 1.5], scale 3, zp round(0.5) = 1 → levels {-3, 0}
    const q = run('asymmetric', 1, null);
    check(q, {
      codes: [1, 0, 1, 1, 1, 1],
      values: [0, -3, 0, 0, 0, 0],
      params: [3, 1],
      zeroCodes: [1],
      levels: 2,
      bits: 1,
    });
  });
  it('with a mask: range over kept weights only', () => {
    check(run('asymmetric', 2, null, MASK), {
      codes: [3, 0, 2, 2, 2, 3],
      values: [1, -2, 0, 0, 0, 1],
      params: [1, 2],
      zeroCodes: [2],
      levels: 4,
      bits: 2,
    });
  });
});

describe('pow2', () => {
  it('2 bits per tensor: qmax 1, step 2^ceil(log2 1.5) = 2', () => {
    check(run('pow2', 2, null), {
      codes: [1, 0, 1, 1, 1, 2],
      values: [0, -2, 0, 0, 0, 2],
      params: [2],
      zeroCodes: [1],
      levels: 3,
      bits: 2,
    });
  });
  it('2 bits per channel: steps 1 (max 0.75) and 2 (max 1.5); 0.5 rounds away to 1', () => {
    check(run('pow2', 2, -1), {
      codes: [2, 0, 2, 1, 1, 2],
      values: [1, -2, 1, 0, 0, 2],
      params: [1, 2],
      zeroCodes: [1, 1],
      levels: 3,
      bits: 2,
    });
  });
  it('4 bits: step 0.25 where symmetric would use 1.5/7', () => {
    // qmax 7: 7·2^-2 = 1.75 >= 1.5 > 7·2^-3; -0.125/0.25 = -0.5 → -1
    const q = run('pow2', 4, null);
    check(q, {
      codes: [9, 1, 10, 6, 5, 13],
      values: [0.5, -1.5, 0.75, -0.25, -0.5, 1.5],
      params: [0.25],
      zeroCodes: [7],
      levels: 15,
      bits: 4,
    });
    expect(run('symmetric', 4, null).params[0]).toBeCloseTo(1.5 / 7, 7);
  });
  it('with a mask', () => {
    check(run('pow2', 2, null, MASK), {
      codes: [1, 0, 1, 1, 1, 2],
      values: [0, -2, 0, 0, 0, 2],
      params: [2],
      zeroCodes: [1],
      levels: 3,
      bits: 2,
    });
  });
});

describe('kmeans', () => {
  it('2 bits per tensor: linear init [-1.5, -0.5, 0.5, 1.5], converges after one update', () => {
    // mids [-1, 0, 1]: {-1.5}, {-0.375, -0.125}, {0.5, 0.75}, {1.5} → means [-1.5, -0.25, 0.625, 1.5]
    const q = run('kmeans', 2, null);
    check(q, {
      codes: [2, 0, 2, 1, 1, 3],
      values: [0.625, -1.5, 0.625, -0.25, -0.25, 1.5],
      params: [-1.5, -0.25, 0.625, 1.5],
      zeroCodes: [-1],
      levels: 4,
      bits: 2,
    });
    expect(Array.from(q.codebook)).toEqual([-1.5, -0.25, 0.625, 1.5]);
  });
  it('1 bit per tensor: the two means of the negative and positive weights', () => {
    const [neg, pos] = [f(-2 / 3), f(2.75 / 3)];
    check(run('kmeans', 1, null), {
      codes: [1, 0, 1, 0, 0, 1],
      values: [pos, neg, pos, neg, neg, pos],
      params: [neg, pos],
      zeroCodes: [-1],
      levels: 2,
      bits: 1,
    });
  });
  it('1 bit per channel', () => {
    // ch0 init [-0.375, 0.75] → {-0.375}, {0.5, 0.75}; ch1 init [-1.5, 1.5] → {-1.5, -0.125}, {1.5}
    check(run('kmeans', 1, -1), {
      codes: [1, 0, 1, 0, 0, 1],
      values: [0.625, -0.8125, 0.625, -0.8125, -0.375, 1.5],
      params: [-0.375, 0.625, -0.8125, 1.5],
      zeroCodes: [-1, -1],
      levels: 2,
      bits: 1,
    });
  });
  it('2 bits per channel: 3 distinct values ≤ 4, so the codebook is those values (padded) and nothing changes', () => {
    check(run('kmeans', 2, -1), {
      codes: [1, 0, 2, 1, 0, 2],
      values: Array.from(W),
      params: [-0.375, 0.5, 0.75, 0.75, -1.5, -0.125, 1.5, 1.5],
      zeroCodes: [-1, -1],
      levels: 4,
      bits: 2,
    });
  });
  it('with a mask: symbol 0 is reserved for 0 and the kept weights share 3 centroids', () => {
    // kept [-1.5, -0.375, -0.125, 0.5, 1.5], init [-1.5, 0, 1.5] → means [-1.5, 0, 1.5] at once
    check(run('kmeans', 2, null, MASK), {
      codes: [2, 1, 0, 2, 2, 3],
      values: [0, -1.5, 0, 0, 0, 1.5],
      params: [0, -1.5, 0, 1.5],
      zeroCodes: [0],
      levels: 4,
      bits: 2,
    });
  });
});

describe('binary', () => {
  it('per tensor: α = mean|w| = 4.75/6, sign(w)·α', () => {
    const a = f(4.75 / 6);
    check(run('binary', 1, null), {
      codes: [1, 0, 1, 0, 0, 1],
      values: [a, -a, a, -a, -a, a],
      params: [a],
      zeroCodes: [-1],
      levels: 2,
      bits: 1,
    });
  });
  it('per channel: α0 = 1.625/3, α1 = 3.125/3', () => {
    const [a, b] = [f(1.625 / 3), f(3.125 / 3)];
    check(run('binary', 1, -1), {
      codes: [1, 0, 1, 0, 0, 1],
      values: [a, -b, a, -b, -a, b],
      params: [a, b],
      zeroCodes: [-1, -1],
      levels: 2,
      bits: 1,
    });
  });
  it('w = 0 becomes +α', () => {
    const q = quantizeTensor(new Float32Array([0, -1, 1]), [3], { scheme: 'binary', bits: 1, channelAxis: null });
    expect(Array.from(dequantize(q))).toEqual([f(2 / 3), -f(2 / 3), f(2 / 3)]);
  });
  it('with a mask: a third, zero symbol (levels 3, 2 bits); α over the 5 kept = 4/5', () => {
    const a = f(0.8);
    check(run('binary', 1, null, MASK), {
      codes: [2, 0, 1, 0, 0, 2],
      values: [a, -a, 0, -a, -a, a],
      params: [a],
      zeroCodes: [1],
      levels: 3,
      bits: 2,
    });
  });
});

describe('ternary', () => {
  it('per tensor: Δ = 0.7·4.75/6 ≈ 0.554, α = mean of {1.5, 0.75, 1.5} = 1.25', () => {
    check(run('ternary', 2, null), {
      codes: [1, 0, 2, 1, 1, 2],
      values: [0, -1.25, 1.25, 0, 0, 1.25],
      params: [1.25],
      zeroCodes: [1],
      levels: 3,
      bits: 2,
    });
  });
  it('per channel: Δ0 ≈ 0.379 keeps 0.5 and 0.75 (α 0.625) but not 0.375; Δ1 ≈ 0.729, α 1.5', () => {
    check(run('ternary', 2, -1), {
      codes: [2, 0, 2, 1, 1, 2],
      values: [0.625, -1.5, 0.625, 0, 0, 1.5],
      params: [0.625, 1.5],
      zeroCodes: [1, 1],
      levels: 3,
      bits: 2,
    });
  });
  it('with a mask: Δ = 0.7·0.8 = 0.56 over the kept weights, α = 1.5', () => {
    check(run('ternary', 2, null, MASK), {
      codes: [1, 0, 1, 1, 1, 2],
      values: [0, -1.5, 0, 0, 0, 1.5],
      params: [1.5],
      zeroCodes: [1],
      levels: 3,
      bits: 2,
    });
  });
});

describe('edge cases', () => {
  it.each(['symmetric', 'asymmetric', 'pow2', 'kmeans', 'ternary'] as QuantScheme[])(
    '%s: all-zero and fully masked channels decode to +0',
    (scheme) => {
      const bits = scheme === 'kmeans' || scheme === 'asymmetric' ? 3 : 2;
      const z = quantizeTensor(new Float32Array(6), SHAPE, { scheme, bits, channelAxis: -1 });
      expect(Array.from(dequantize(z)).every((v) => Object.is(v, 0))).toBe(true);
      const m = quantizeTensor(W, SHAPE, { scheme, bits, channelAxis: -1, mask: new Uint8Array([0, 1, 0, 1, 0, 1]) });
      const d = dequantize(m);
      expect([d[0], d[2], d[4]].every((v) => Object.is(v, 0))).toBe(true);
      expect(Array.from(m.codebook.subarray(0, m.levels)).every((v) => Object.is(v, 0))).toBe(true);
    },
  );
  it('empty tensors and zero-size channel axes', () => {
    const q = quantizeTensor(new Float32Array(0), [0, 4], { scheme: 'kmeans', bits: 2, channelAxis: -1 });
    expect(q.codebook.length).toBe(16);
    expect(dequantize(q).length).toBe(0);
    expect(
      quantizeTensor(new Float32Array(0), [4, 0], { scheme: 'symmetric', bits: 2, channelAxis: -1 }).codebook.length,
    ).toBe(0);
  });
  it('rejects bad bits, shapes, axes, masks, schemes and non-finite weights, naming the parameter', () => {
    const q =
      (o: Partial<Parameters<typeof quantizeTensor>[2]>, v = W, s = SHAPE) =>
      () =>
        quantizeTensor(v, s, { scheme: 'symmetric', bits: 4, channelAxis: null, ...o });
    expect(q({ bits: 1 })).toThrow(/symmetric: bits must be an integer in \[2, 16\], got 1/);
    expect(q({ scheme: 'pow2', bits: 17 })).toThrow(/pow2: bits must be an integer in \[2, 16\], got 17/);
    expect(q({ scheme: 'asymmetric', bits: 0 })).toThrow(/asymmetric: bits must be an integer in \[1, 16\], got 0/);
    expect(q({ scheme: 'kmeans', bits: 2.5 })).toThrow(/kmeans: bits/);
    expect(q({ scheme: 'binary', bits: 2 })).toThrow(/binary: bits must be 1, got 2/);
    expect(q({ scheme: 'ternary', bits: 1 })).toThrow(/ternary: bits must be 2, got 1/);
    expect(q({ scheme: 'nope' as QuantScheme })).toThrow(/scheme must be one of: symmetric, .*got 'nope'/);
    expect(q({}, W, [4, 2])).toThrow(/shape \[4, 2\] has 8 elements but values has 6/);
    expect(q({ channelAxis: 2 })).toThrow(/channelAxis must be null or an integer in \[-2, 1\] .*got 2/);
    expect(q({ channelAxis: -3 })).toThrow(/channelAxis/);
    expect(q({ mask: new Uint8Array(5) })).toThrow(/mask has 5 elements but values has 6/);
    expect(q({}, new Float32Array([1, NaN, 0, 0, 0, 0]))).toThrow(/non-finite weight NaN at index 1/);
    expect(q({ scheme: 'pow2' }, new Float32Array([2 ** 126, 0, 0, 0, 0, -(2 ** 126)]))).not.toThrow();
    expect(q({ scheme: 'asymmetric', bits: 1 }, new Float32Array([2 ** 126, 0, 0, 0, 0, -(2 ** 126)]))).not.toThrow();
    expect(q({}, new Float32Array([0, 0, 0, 3e38, 0, 0]))).toThrow(/weight outside ±2\^126 3\.0.*e\+38 at index 3/);
  });
  it('does not modify its inputs', () => {
    const w = W.slice();
    const mask = MASK.slice();
    quantizeTensor(w, SHAPE, { scheme: 'kmeans', bits: 2, channelAxis: -1, mask });
    expect(w).toEqual(W);
    expect(mask).toEqual(MASK);
  });
});

describe('channels over several axes (a depthwise kernel [kh, kw, C, M])', () => {
  // [1, 2, 2, 2]: kh 1, kw 2, C 2, M 2. Output channel c·M + m of element i is i mod 4:
  //   ch0 {1, −0.25}, ch1 {−2, 1.5}, ch2 {3, −2.5}, ch3 {−4, 3.5}
  const DW = new Float32Array([1, -2, 3, -4, -0.25, 1.5, -2.5, 3.5]);
  const DW_SHAPE = [1, 2, 2, 2];
  const sym2 = (channelAxis: number, channelSpan?: number) =>
    quantizeTensor(DW, DW_SHAPE, { scheme: 'symmetric', bits: 2, channelAxis, channelSpan });

  it('span 2 from axis 2: one codebook per C·M output channel, scale max|w| (qmax 1)', () => {
    // w/s: ch0 [1, −0.25] → [1, 0]; ch1 [−1, 0.75] → [−1, 1]; ch2 [1, −0.83] → [1, −1]; ch3 [−1, 0.875] → [−1, 1]
    const q = sym2(2, 2);
    expect(Array.from(q.params)).toEqual([1, 2, 3, 4]);
    expect(Array.from(dequantize(q))).toEqual([1, -2, 3, -4, 0, 2, -3, 4]);
    expect(q.channelAxis).toBe(2);
    expect(q.channelSpan).toBe(2);
    expect(q.codebook.length).toBe(4 * 3);
    // −2 normalises to 2 like a single axis does.
    expect(Array.from(sym2(-2, 2).params)).toEqual([1, 2, 3, 4]);
  });

  it('one axis: axis 2 gives the C input channels (M filters share one), the last axis the M multipliers', () => {
    // axis 2: c = ⌊i/2⌋ mod 2 → {1, −2, −0.25, 1.5} max 2, {3, −4, −2.5, 3.5} max 4
    expect(Array.from(sym2(2).params)).toEqual([2, 4]);
    expect(sym2(2).channelSpan).toBeUndefined();
    // last axis: c = i mod 2 → {1, 3, −0.25, −2.5} max 3, {−2, −4, 1.5, 3.5} max 4
    expect(Array.from(sym2(-1).params)).toEqual([3, 4]);
  });

  it('rejects a span past the last axis', () => {
    expect(() => sym2(2, 3)).toThrow(
      /channelSpan must be an integer in \[1, 2\] for axis 2 of shape \[1, 2, 2, 2\], got 3/,
    );
    expect(() => sym2(0, 0)).toThrow(/channelSpan must be an integer in \[1, 4\]/);
  });
});
