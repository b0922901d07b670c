import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { isSquashKernel } from './wasm_heap.js';
import { expectIdentical, kernelOn, random, useWasm } from './__tests__/compare.js';

interface Case {
  x: [number, number, number, number];
  /** [KH, KW, C, M] */
  w: [number, number, number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number;
  dimRoundingMode?: 'ceil' | 'floor' | 'round';
}

// Multiplier 1 and 2+, 'same' on odd and even sizes, rectangular kernels and strides, a numeric pad
// with a rounding mode, a 1×1 kernel, and a MobileNet-like layer.
const CASES: Case[] = [
  { x: [1, 1, 1, 1], w: [1, 1, 1, 1], strides: 1, pad: 'valid' },
  { x: [2, 5, 5, 3], w: [3, 3, 3, 1], strides: 1, pad: 'same' },
  { x: [2, 6, 7, 3], w: [3, 3, 3, 2], strides: 2, pad: 'same' },
  { x: [3, 7, 5, 2], w: [2, 3, 2, 3], strides: [2, 1], pad: 'valid' },
  { x: [1, 8, 8, 4], w: [5, 5, 4, 1], strides: 2, pad: 'valid' },
  { x: [2, 7, 7, 2], w: [3, 3, 2, 2], strides: 2, pad: 1, dimRoundingMode: 'floor' },
  { x: [2, 9, 9, 5], w: [1, 1, 5, 2], strides: 1, pad: 'valid' },
  { x: [4, 14, 14, 16], w: [3, 3, 16, 1], strides: 1, pad: 'same' },
];

const describeCase = (c: Case) =>
  `x ${c.x.join('×')}, w ${c.w.join('×')}, strides ${c.strides}, pad ${c.pad}${c.dimRoundingMode ? ` ${c.dimRoundingMode}` : ''}`;

function dyFor(c: Case, seed: number) {
  const shape = tf.tidy(
    () =>
      tf.depthwiseConv2d(
        tf.zeros(c.x) as tf.Tensor4D,
        tf.zeros(c.w) as tf.Tensor4D,
        c.strides,
        c.pad,
        'NHWC',
        1,
        c.dimRoundingMode,
      ).shape,
  );
  return random(shape, seed);
}

const attrs = (c: Case) => ({ strides: c.strides, pad: c.pad, dilations: 1, dimRoundingMode: c.dimRoundingMode });

describe('wasm depthwise convolution gradients', () => {
  it('are registered when wasm is selected (tfjs-backend-wasm 4.22 has neither)', async () => {
    await useWasm();
    expect(isSquashKernel(tf, 'DepthwiseConv2dNativeBackpropFilter')).toBe(true);
    expect(isSquashKernel(tf, 'DepthwiseConv2dNativeBackpropInput')).toBe(true);
  });

  CASES.forEach((c, i) => {
    it(`DepthwiseConv2dNativeBackpropFilter is identical to cpu for ${describeCase(c)}`, async () => {
      await tf.setBackend('cpu');
      const ins = { x: random(c.x, 100 + i), dy: dyFor(c, 200 + i) };
      const a = { ...attrs(c), filterShape: c.w };
      const ref = await kernelOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', ins, a);
      expect(ref.some((v) => v !== 0)).toBe(true);
      expectIdentical(await kernelOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', ins, a), ref, describeCase(c));
    });

    it(`DepthwiseConv2dNativeBackpropInput is identical to cpu for ${describeCase(c)}`, async () => {
      await tf.setBackend('cpu');
      const ins = { dy: dyFor(c, 300 + i), filter: random(c.w, 400 + i) };
      const a = { ...attrs(c), inputShape: c.x };
      const ref = await kernelOn('cpu', 'DepthwiseConv2dNativeBackpropInput', ins, a);
      expect(ref.some((v) => v !== 0)).toBe(true);
      expectIdentical(await kernelOn('wasm', 'DepthwiseConv2dNativeBackpropInput', ins, a), ref, describeCase(c));
    });
  });

  it('give tf.separableConv2d the same gradients as cpu', async () => {
    const x = random([2, 9, 9, 3], 1),
      dw = random([3, 3, 3, 2], 2),
      pw = random([1, 1, 6, 4], 3);
    const grads = () =>
      tf.tidy(() =>
        tf
          .grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
            tf.sum(tf.square(tf.separableConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, 2, 'same'))),
          )([tf.tensor(x.data, x.shape), tf.tensor(dw.data, dw.shape), tf.tensor(pw.data, pw.shape)])
          .map((t) => t.dataSync().slice() as Float32Array),
      );
    await tf.setBackend('cpu');
    const ref = grads();
    await useWasm();
    const got = grads();
    ref.forEach((r, k) => {
      // The forward pass and the pointwise gradients run on XNNPACK: float32 rounding, not identity.
      const scale = Math.max(...r.map(Math.abs));
      r.forEach((v, j) => expect(Math.abs(got[k]![j]! - v)).toBeLessThan(1e-5 * scale));
    });
  });
});
