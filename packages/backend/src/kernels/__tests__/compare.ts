import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { selectBackend } from '../../backend.js';
import { createRng } from '@squash/core';
import type { TensorInfo, WasmBackend, WasmKernelFunc } from '../wasm_heap.js';

export interface Input {
  data: Float32Array;
  shape: number[];
}

/** Standard-normal data, reproducible from the seed. */
export function random(shape: number[], seed: number, map: (v: number) => number = (v) => v): Input {
  const r = createRng(seed);
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => map(r.normal()));
  return { data, shape };
}

/** Selects wasm through the project's own backend selection (so squash kernels are registered). */
export async function useWasm(): Promise<void> {
  const choice = await selectBackend({ prefer: 'wasm' });
  expect(choice.name).toBe('wasm');
  await tf.setBackend('wasm');
}

/** Runs a registered kernel through the tfjs engine on `backend`. */
export async function kernelOn(
  backend: 'cpu' | 'wasm',
  name: string,
  inputs: Record<string, Input>,
  attrs: object,
): Promise<Float32Array> {
  if (backend === 'wasm') await useWasm();
  else await tf.setBackend('cpu');
  return tf.tidy(() => {
    const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
    return (tf.engine().runKernel(name, tensors, attrs as tf.NamedAttrMap) as tf.Tensor)
      .dataSync()
      .slice() as Float32Array;
  });
}

/** Calls a wasm kernel function directly (not through the registry), e.g. a forced formulation. */
export async function callWasm(
  kernelFunc: WasmKernelFunc,
  inputs: Record<string, Input>,
  attrs: object,
): Promise<Float32Array> {
  await useWasm();
  const backend = tf.backend() as unknown as WasmBackend;
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
  const infos = Object.fromEntries(
    Object.entries(tensors).map(([k, t]) => [k, { dataId: t.dataId, shape: t.shape, dtype: t.dtype } as TensorInfo]),
  );
  const before = tf.memory().numTensors;
  const out = kernelFunc({ inputs: infos, backend, attrs });
  const result = tf.engine().makeTensorFromTensorInfo(out);
  const values = result.dataSync().slice() as Float32Array;
  result.dispose();
  expect(tf.memory().numTensors).toBe(before);
  for (const t of Object.values(tensors)) t.dispose();
  return values;
}

/**
 * Float32 sums of `terms` products drift by about eps·terms; a wrong index or a lost gradient is
 * off by the size of a term (≈1 for standard-normal data), far outside this tolerance.
 */
export function expectClose(got: Float32Array, ref: Float32Array, terms: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(ref.length);
  let worst = -1,
    worstExcess = 1;
  for (let i = 0; i < ref.length; i++) {
    const tol = 1e-6 * terms + 1e-5 * Math.abs(ref[i]!) + 1e-6;
    const excess = Math.abs(got[i]! - ref[i]!) / tol;
    if (Number.isNaN(excess) || excess > worstExcess) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0)
    expect.fail(
      `${what}: element ${worst} is ${got[worst]}, cpu gives ${ref[worst]} (${ref.length} elements, ${terms} terms each)`,
    );
}

/** Exact equality (NaN equals NaN). */
export function expectIdentical(got: Float32Array, ref: Float32Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    if (got[i] !== ref[i] && !(Number.isNaN(got[i]) && Number.isNaN(ref[i])))
      expect.fail(`${what}: element ${i} is ${got[i]}, cpu gives ${ref[i]} (${ref.length} elements)`);
  }
}
