import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeConv2DBackpropFilter } from './conv2d_backprop_filter_wasm.js';
import { isSquashKernel, type Tf } from './wasm_heap.js';
import { callWasm, expectClose, kernelOn, random, useWasm } from './__tests__/compare.js';
import { CONV_CASES, describeCase, outShape, type ConvCase as Case } from './__tests__/conv_cases.js';

function inputs(c: Case, seed: number) {
  return { x: random(c.x, seed), dy: random(outShape(c), seed + 1) };
}

function attrs(c: Case) {
  return {
    strides: c.strides,
    pad: c.pad,
    dataFormat: 'NHWC',
    dimRoundingMode: c.dimRoundingMode,
    filterShape: c.filter,
  };
}

/** Products summed into each dW element: B·OH·OW. */
function terms(c: Case): number {
  const [b, oh, ow] = outShape(c);
  return b! * oh! * ow!;
}

describe('wasm Conv2DBackpropFilter', () => {
  it('is registered when wasm is selected (stock 4.22 has none)', async () => {
    await useWasm();
    expect(isSquashKernel(tf, 'Conv2DBackpropFilter')).toBe(true);
  });

  CONV_CASES.forEach((c, i) => {
    it(`matches cpu for ${describeCase(c)}`, async () => {
      const ins = inputs(c, 100 + i);
      const ref = await kernelOn('cpu', 'Conv2DBackpropFilter', ins, attrs(c));
      const got = await kernelOn('wasm', 'Conv2DBackpropFilter', ins, attrs(c));
      expectClose(got, ref, terms(c), describeCase(c));
    });
  });

  it('gives the same result when the batch is processed in chunks', async () => {
    await useWasm();
    // At most one image's im2col per chunk: batches of 1, partial products summed.
    for (const c of [CONV_CASES[3]!, CONV_CASES[6]!, CONV_CASES[13]!]) {
      const ins = inputs(c, 7);
      const ref = await kernelOn('cpu', 'Conv2DBackpropFilter', ins, attrs(c));
      const chunked = makeConv2DBackpropFilter(tf as unknown as Tf, 1)!;
      expectClose(await callWasm(chunked, ins, attrs(c)), ref, terms(c), `chunked ${describeCase(c)}`);
    }
  });

  it('rejects NCHW with a clear message', async () => {
    await useWasm();
    const kernel = makeConv2DBackpropFilter(tf as unknown as Tf)!;
    const c = CONV_CASES[2]!;
    await expect(callWasm(kernel, inputs(c, 1), { ...attrs(c), dataFormat: 'NCHW' })).rejects.toThrow(/NHWC only/);
  });
});
