import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { makeConv2DBackpropInput } from './conv2d_backprop_input_wasm.js';
import { isSquashKernel, replacedKernel, type Tf, type WasmKernelFunc } from './wasm_heap.js';
import { callWasm, expectClose, kernelOn, random, useWasm } from './__tests__/compare.js';
import { CONV_CASES, describeCase, outShape, type ConvCase as Case } from './__tests__/conv_cases.js';

function inputs(c: Case, seed: number) {
  return { dy: random(outShape(c), seed), filter: random(c.filter, seed + 1) };
}

function attrs(c: Case) {
  return { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.dimRoundingMode, inputShape: c.x };
}

/** Products summed into each dx element: at most KH·KW·Co. */
function terms(c: Case): number {
  return c.filter[0] * c.filter[1] * c.filter[3];
}

describe('wasm Conv2DBackpropInput', () => {
  it('is replaced when wasm is selected', async () => {
    await useWasm();
    expect(isSquashKernel(tf, 'Conv2DBackpropInput')).toBe(true);
    expect(replacedKernel(tf, 'Conv2DBackpropInput')?.kernelName).toBe('Conv2DBackpropInput');
  });

  CONV_CASES.forEach((c, i) => {
    it(`matches cpu for ${describeCase(c)} (registered, both formulations, stock)`, async () => {
      const ins = inputs(c, 200 + i);
      const ref = await kernelOn('cpu', 'Conv2DBackpropInput', ins, attrs(c));
      expectClose(
        await kernelOn('wasm', 'Conv2DBackpropInput', ins, attrs(c)),
        ref,
        terms(c),
        `registered ${describeCase(c)}`,
      );
      for (const force of ['conv', 'matmul'] as const) {
        const kernel = makeConv2DBackpropInput(tf as unknown as Tf, { force })!;
        expectClose(await callWasm(kernel, ins, attrs(c)), ref, terms(c), `${force} ${describeCase(c)}`);
      }
      // The stock kernel is correct, only slow: it agrees too (guards the reference itself).
      const stock = replacedKernel(tf, 'Conv2DBackpropInput')!.kernelFunc as unknown as WasmKernelFunc;
      expectClose(await callWasm(stock, ins, attrs(c)), ref, terms(c), `stock ${describeCase(c)}`);
    });
  });

  it('gives the same result when the batch is processed in chunks', async () => {
    const kernel = makeConv2DBackpropInput(tf as unknown as Tf, { force: 'matmul', maxColumnElements: 1 })!;
    for (const c of [CONV_CASES[3]!, CONV_CASES[6]!, CONV_CASES[13]!]) {
      const ins = inputs(c, 9);
      const ref = await kernelOn('cpu', 'Conv2DBackpropInput', ins, attrs(c));
      expectClose(await callWasm(kernel, ins, attrs(c)), ref, terms(c), `chunked ${describeCase(c)}`);
    }
  });

  it('rejects NCHW with a clear message', async () => {
    await useWasm();
    const c = CONV_CASES[2]!;
    const kernel = makeConv2DBackpropInput(tf as unknown as Tf)!;
    await expect(callWasm(kernel, inputs(c, 1), { ...attrs(c), dataFormat: 'NCHW' })).rejects.toThrow(/NHWC only/);
  });
});
