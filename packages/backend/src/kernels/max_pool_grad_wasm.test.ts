import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { isSquashKernel, replacedKernel, type WasmKernelFunc } from './wasm_heap.js';
import { callWasm, expectIdentical, kernelOn, random, useWasm, type Input } from './__tests__/compare.js';

interface Case {
  x: [number, number, number, number];
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number;
  dimRoundingMode?: 'ceil' | 'floor' | 'round';
}

// Non-overlapping and overlapping windows, 'same' padding on odd sizes, rectangular windows and
// strides, a numeric pad, a rounding mode, and LeNet-5's two pools.
const CASES: Case[] = [
  { x: [1, 1, 1, 1], filterSize: 1, strides: 1, pad: 'valid' },
  { x: [1, 4, 4, 1], filterSize: 2, strides: 2, pad: 'valid' },
  { x: [2, 5, 7, 3], filterSize: 2, strides: 2, pad: 'same' },
  { x: [3, 7, 5, 2], filterSize: 3, strides: 2, pad: 'valid' },
  { x: [2, 6, 6, 5], filterSize: 3, strides: 1, pad: 'same' },
  { x: [1, 13, 11, 4], filterSize: [2, 3], strides: [1, 2], pad: 'valid' },
  { x: [2, 6, 6, 3], filterSize: 3, strides: 2, pad: 1 },
  { x: [2, 7, 7, 2], filterSize: 2, strides: 2, pad: 0, dimRoundingMode: 'ceil' },
  { x: [4, 24, 24, 20], filterSize: 2, strides: 2, pad: 'valid' },
  { x: [4, 8, 8, 50], filterSize: 2, strides: 2, pad: 'valid' },
];

const DATA: Record<string, (v: number) => number> = {
  random: (v) => v,
  // Every window ≤ 0: the stock wasm kernel passes no gradient at all here.
  'all-negative': (v) => -Math.abs(v) - 0.5,
  'all-zero': () => 0,
  // Few distinct values: many ties, where the first maximum in row-major order must win.
  ties: (v) => Math.round(v),
  'NaN and -Infinity': (v) => (v > 1.2 ? NaN : v < -1.2 ? -Infinity : v),
};

function describeCase(c: Case): string {
  return `x ${c.x.join('×')}, window ${c.filterSize}, strides ${c.strides}, pad ${c.pad}${c.dimRoundingMode ? ` ${c.dimRoundingMode}` : ''}`;
}

function inputs(c: Case, seed: number, map: (v: number) => number): Record<string, Input> {
  const input = random(c.x, seed, map);
  const y = tf.tidy(() =>
    tf.maxPool(tf.tensor(input.data, c.x) as tf.Tensor4D, c.filterSize, c.strides, c.pad, c.dimRoundingMode),
  );
  const dy = random(y.shape, seed + 1);
  const output = { data: y.dataSync().slice() as Float32Array, shape: y.shape };
  y.dispose();
  return { dy, input, output };
}

const attrs = (c: Case) => ({
  filterSize: c.filterSize,
  strides: c.strides,
  pad: c.pad,
  dimRoundingMode: c.dimRoundingMode,
});

describe('wasm MaxPoolGrad', () => {
  it('is replaced when wasm is selected', async () => {
    await useWasm();
    expect(isSquashKernel(tf, 'MaxPoolGrad')).toBe(true);
  });

  CASES.forEach((c, i) => {
    for (const [name, map] of Object.entries(DATA)) {
      it(`is identical to cpu for ${describeCase(c)}, ${name} inputs`, async () => {
        await tf.setBackend('cpu');
        const ins = inputs(c, 300 + i, map);
        const ref = await kernelOn('cpu', 'MaxPoolGrad', ins, attrs(c));
        expectIdentical(await kernelOn('wasm', 'MaxPoolGrad', ins, attrs(c)), ref, `${describeCase(c)}, ${name}`);
      });
    }
  });

  it('fixes the stock kernel: all-negative windows lose their gradient there, not here', async () => {
    await useWasm();
    const c = CASES[8]!;
    await tf.setBackend('cpu');
    const ins = inputs(c, 1, DATA['all-negative']!);
    const ref = await kernelOn('cpu', 'MaxPoolGrad', ins, attrs(c));
    const stock = replacedKernel(tf, 'MaxPoolGrad')!.kernelFunc as unknown as WasmKernelFunc;
    const broken = await callWasm(stock, ins, attrs(c));
    // The stock kernel sends (nearly) every window's gradient nowhere. If this fails, tfjs fixed its
    // kernel and the override may be dropped.
    const routed = ref.filter((v) => v !== 0).length;
    const lost = ref.filter((v, j) => v !== 0 && broken[j] !== v).length;
    expect(routed).toBe(ref.length / 4);
    expect(lost).toBeGreaterThan(0.99 * routed);
    expectIdentical(await kernelOn('wasm', 'MaxPoolGrad', ins, attrs(c)), ref, 'registered');
  });
});
