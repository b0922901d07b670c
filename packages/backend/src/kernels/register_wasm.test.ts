import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend.js';
import { registerWasmKernels, SQUASH_WASM_KERNELS } from './register_wasm.js';
import { isSquashKernel } from './wasm_heap.js';
import { expectClose, random, useWasm, type Input } from './__tests__/compare.js';

describe('registerWasmKernels', () => {
  it('registers every squash kernel when wasm is selected, and only once', async () => {
    const choice = await selectBackend({ prefer: 'wasm' });
    expect(choice.name).toBe('wasm');
    for (const name of SQUASH_WASM_KERNELS) expect(isSquashKernel(tf, name), name).toBe(true);
    expect(registerWasmKernels(tf)).toEqual([]);
  });
});

interface Graph {
  x: [number, number, number, number];
  w: [number, number, number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid';
  pool: number;
  poolStrides: number;
  poolPad: 'same' | 'valid';
  /** Added to the conv output; −10 makes every pooling window negative (the stock MaxPoolGrad bug). */
  shift: number;
}

const GRAPHS: Graph[] = [
  { x: [3, 11, 11, 2], w: [3, 3, 2, 4], strides: 1, pad: 'valid', pool: 2, poolStrides: 2, poolPad: 'valid', shift: 0 },
  { x: [2, 12, 12, 3], w: [5, 5, 3, 6], strides: 2, pad: 'same', pool: 3, poolStrides: 2, poolPad: 'same', shift: 0 },
  {
    x: [1, 9, 7, 5],
    w: [2, 3, 5, 3],
    strides: [2, 1],
    pad: 'same',
    pool: 2,
    poolStrides: 1,
    poolPad: 'valid',
    shift: -10,
  },
  {
    x: [4, 28, 28, 1],
    w: [5, 5, 1, 20],
    strides: 1,
    pad: 'valid',
    pool: 2,
    poolStrides: 2,
    poolPad: 'valid',
    shift: -10,
  },
  {
    x: [4, 12, 12, 20],
    w: [5, 5, 20, 50],
    strides: 1,
    pad: 'valid',
    pool: 2,
    poolStrides: 2,
    poolPad: 'valid',
    shift: -10,
  },
];

/** Gradients of sum(maxPool(conv2d(x, w) + shift) · r) with respect to x and w. */
async function gradsOn(backend: 'cpu' | 'wasm', g: Graph, x: Input, w: Input, seed: number): Promise<Float32Array[]> {
  if (backend === 'wasm') await useWasm();
  else await tf.setBackend('cpu');
  return tf.tidy(() => {
    const pooled = (xv: tf.Tensor, wv: tf.Tensor) =>
      tf.maxPool(
        tf.add(tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, g.strides, g.pad), g.shift) as tf.Tensor4D,
        g.pool,
        g.poolStrides,
        g.poolPad,
      );
    const shape = tf.tidy(() => pooled(tf.zeros(g.x), tf.zeros(g.w)).shape);
    const r = random(shape, seed);
    const f = (xv: tf.Tensor, wv: tf.Tensor) => tf.sum(tf.mul(pooled(xv, wv), tf.tensor(r.data, r.shape)));
    return tf
      .grads(f)([tf.tensor(x.data, x.shape), tf.tensor(w.data, w.shape)])
      .map((t) => t.dataSync().slice() as Float32Array);
  });
}

describe('conv → maxPool → sum gradients on wasm', () => {
  GRAPHS.forEach((g, i) => {
    it(`match cpu for x ${g.x.join('×')}, w ${g.w.join('×')}, strides ${g.strides} ${g.pad}, pool ${g.pool}/${g.poolStrides} ${g.poolPad}, shift ${g.shift}`, async () => {
      const x = random(g.x, 500 + i),
        w = random(g.w, 600 + i);
      const [cx, cw] = await gradsOn('cpu', g, x, w, 700 + i);
      const [wx, ww] = await gradsOn('wasm', g, x, w, 700 + i);
      expect(cw!.some((v) => v !== 0)).toBe(true);
      expectClose(wx!, cx!, g.w[0] * g.w[1] * g.w[3], 'dL/dx');
      expectClose(ww!, cw!, g.x[0] * g.x[1] * g.x[2], 'dL/dw');
    });
  });
});

describe('a LeNet-style tf.layers model on wasm', () => {
  it('takes the same SGD step as on cpu', async () => {
    const build = () => {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [16, 16, 1], filters: 6, kernelSize: 5, activation: 'linear' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'linear' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      });
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
      return model;
    };
    const x = random([8, 16, 16, 1], 1);
    const labels = Float32Array.from({ length: 80 }, (_, i) => (i % 10 === (Math.floor(i / 10) * 3) % 10 ? 1 : 0));
    await tf.setBackend('cpu');
    const cpuModel = build();
    const initial = cpuModel.getWeights().map((t) => ({ data: t.dataSync().slice() as Float32Array, shape: t.shape }));
    const step = async (model: tf.Sequential) => {
      await model.trainOnBatch(tf.tensor(x.data, x.shape), tf.tensor(labels, [8, 10]));
      return model.getWeights().map((t) => t.dataSync().slice() as Float32Array);
    };
    const cpuAfter = await step(cpuModel);
    await useWasm();
    const wasmModel = build();
    wasmModel.setWeights(initial.map((w) => tf.tensor(w.data, w.shape)));
    const wasmAfter = await step(wasmModel);
    // Updates are ~1e-2; float32 differences between the backends ~1e-8.
    cpuAfter.forEach((w, i) => {
      const before = initial[i]!.data;
      let step = 0,
        gap = 0;
      w.forEach((v, j) => {
        step = Math.max(step, Math.abs(v - before[j]!));
        gap = Math.max(gap, Math.abs(v - wasmAfter[i]![j]!));
      });
      expect(step, `weight ${i} moved`).toBeGreaterThan(1e-3);
      expect(gap, `weight ${i} (${initial[i]!.shape.join('×')}): wasm vs cpu`).toBeLessThan(1e-4 * step);
    });
  });
});
