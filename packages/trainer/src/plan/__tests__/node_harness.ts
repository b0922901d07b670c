import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { depthwiseDims, type Addon, type ConvDims, type DepthwiseDims, type PoolDims } from '@squash/backend';
import { convDims as compiledConvDims, poolDims as compiledPoolDims } from '../compile.js';
import { createRng, type Rng } from '@squash/core';
import type { Param, PlanContext, PlanNode } from '../node.js';
import { Scratch, gradOf, makeSlot, valuesOf, type Slot } from '../slots.js';

// Runs one plan node on hand-made slots and compares it with tfjs ops on the cpu backend. Memory a
// node must not read (samples past n) or must overwrite (gradients, scratch) is filled with NaN, so
// reading too far or accumulating into stale values shows up as NaN in the comparison.

export const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export class Values {
  readonly rng: Rng;
  constructor(seed: number) {
    this.rng = createRng(seed);
  }
  normal(size: number, scale = 1): Float32Array {
    return Float32Array.from({ length: size }, () => this.rng.normal() * scale);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.rng.int(items.length)]!;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + this.rng.int(hi - lo + 1);
  }
}

/** A slot of maxBatch = n + 2 whose first n samples hold `values`; everything else is NaN. */
export function slotOf(name: string, shape: number[], n: number, values: Float32Array, needGrad = true): Slot {
  const s = makeSlot(name, shape, n + 2, needGrad);
  s.y.fill(Number.NaN);
  s.y.set(values);
  s.dy?.fill(Number.NaN);
  return s;
}

/** An output slot for n samples (maxBatch n + 2), values and gradient NaN until written. */
export function outSlot(name: string, shape: number[], n: number): Slot {
  return slotOf(name, shape, n, new Float32Array(0));
}

/** A weight; trained ones get a NaN-filled gradient the node must overwrite. */
export function paramOf(name: string, shape: number[], value: Float32Array, trains = true): Param {
  return { name, shape, value, grad: trains ? new Float32Array(value.length).fill(Number.NaN) : null };
}

export function contextOf(addon: Addon, training = true, seed = 11, step = 3): PlanContext {
  return { addon, scratch: new Scratch(), training, seed, step };
}

/**
 * As a training step does: every node's forward in order, then with `dy` set as each output's
 * gradient and the written-counters reset, every backward in reverse order.
 */
export function runNodes(nodes: PlanNode[], inputs: Slot[], n: number, dys: Float32Array[], ctx: PlanContext): void {
  for (const node of nodes) node.forward(n, ctx);
  nodes.forEach((node, i) => node.out.dy!.set(dys[i]!));
  for (const s of [...inputs, ...nodes.map((node) => node.out)]) (s.base ?? s).written = 0;
  // Stale scratch must not leak into a gradient summed through it.
  ctx.scratch.get(1 << 16).fill(Number.NaN);
  for (let i = nodes.length - 1; i >= 0; i--) nodes[i]!.backward(n, ctx);
}

/** What `onCpu` hands back: every tensor read into a Float32Array. */
export type ReadBack<T> = T extends tf.Tensor
  ? Float32Array
  : T extends readonly (infer U)[]
    ? ReadBack<U>[]
    : T extends object
      ? { [K in keyof T]: ReadBack<T[K]> }
      : T;

/** `fn` on the cpu backend (inside tidy), its tensors read back as arrays; the previous backend restored. */
export async function onCpu<T>(fn: () => T): Promise<ReadBack<T>> {
  const before = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    const out: unknown[] = [];
    tf.tidy(() => {
      out.push(readBack(fn()));
    });
    return out[0] as ReadBack<T>;
  } finally {
    await tf.setBackend(before);
  }
}

const readBack = (v: unknown): unknown => {
  if (v instanceof tf.Tensor) return Float32Array.from(v.dataSync());
  if (Array.isArray(v)) return v.map(readBack);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, readBack(x)]));
  return v;
};

/** The value of f at xs and the gradients of sum(f(xs)·dy) with respect to each of xs. */
export function valueAndGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: tf.Tensor[],
  dy: Float32Array,
): { y: tf.Tensor; grads: tf.Tensor[] } {
  const y = f(...xs);
  const grads = tf.grads((...args: tf.Tensor[]) => f(...args))(xs, tf.tensor(dy, y.shape));
  return { y, grads };
}

/**
 * |actual − expected| ≤ rtol·(|expected| + scale) element-wise, scale being max|expected| or `floor`
 * if larger: relative to the array's magnitude, since sums of many terms round differently on the
 * two backends, and to the terms' magnitude (`floor`) where a sum cancels to near 0.
 */
export function expectClose(
  actual: Float32Array,
  expected: Float32Array | ArrayLike<number>,
  what: string,
  rtol = 1e-4,
  floor = 0,
) {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let scale = floor;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = -1;
  let worstExcess = 1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    // NaN (a value never written, or read past n) counts as the worst.
    const excess = Math.abs(actual[i]! - e) / (rtol * (Math.abs(e) + scale) + 1e-30);
    const score = Number.isNaN(excess) ? Infinity : excess;
    if (score > worstExcess) {
      worst = i;
      worstExcess = score;
    }
  }
  if (worst >= 0)
    expect.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (max |expected| ${scale}, rtol ${rtol})`,
    );
}

/**
 * The activation in the ops the autograd path applies it with (forward.ts); tf.layers' own relu6,
 * min(6, relu(x)), differs only in its gradient at exactly 6 (0 there, tf.relu6's is dy).
 */
export function tfActivation(name: string, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'linear':
      // An op, so that tf.grads sees the output computed from x.
      return tf.mul(x, 1);
    case 'relu6':
      return tf.relu6(x);
    case 'hardSigmoid':
      return tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1);
    case 'softsign':
      return tf.div(x, tf.add(tf.abs(x), 1));
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    default:
      return (tf as unknown as Record<string, (t: tf.Tensor) => tf.Tensor>)[name]!(x);
  }
}

/** ConvDims for one sample, as the plan's compiler forms them from tfjs' geometry. */
// Geometry as the compiler builds it (tfjs' own conv and pool info), with the tests' arguments.
export const convDims = (
  inShape: number[],
  filter: [number, number, number, number],
  strides: number,
  padding: 'same' | 'valid',
  dilation = 1,
): ConvDims => compiledConvDims(inShape, filter, { strides: [strides, strides], padding, dilationRate: dilation });

export const depthwiseDimsOf = (
  inShape: number[],
  filter: [number, number, number, number],
  strides: number,
  padding: 'same' | 'valid',
): DepthwiseDims => depthwiseDims(tf, [1, ...inShape], filter, { strides, dilations: 1, pad: padding })!;

export const poolDims = (inShape: number[], size: number, strides: number, padding: 'same' | 'valid'): PoolDims =>
  compiledPoolDims(inShape, { poolSize: [size, size], strides: [strides, strides], padding });

export interface NodeCase {
  label: string;
  node: PlanNode;
  inputs: Slot[];
  /** The node's weights, passed to `reference` after the inputs. */
  params: Param[];
  n: number;
  ctx: PlanContext;
  /** The node's output from its inputs ([n, ...shape]) and params, in tfjs ops. */
  reference: (...xs: tf.Tensor[]) => tf.Tensor;
  rtol?: number;
}

/**
 * Runs the node's forward and backward pass with a random upstream gradient and compares its
 * output, its inputs' gradients and every trained parameter's gradient with tfjs on cpu; the
 * inputs and weights must come out unchanged.
 */
export async function checkNode(c: NodeCase, v: Values): Promise<void> {
  const { node, inputs, params, n } = c;
  const xs = inputs.map((s) => valuesOf(s, n).slice());
  const ws = params.map((p) => p.value.slice());
  // First a step over the whole of maxBatch (n + 2) with other values: an epoch's last batch is
  // smaller than the others, and nothing of the previous step may leak into it.
  const full = n + 2;
  for (const s of inputs) s.y.set(v.normal(s.y.length));
  runNodes([node], inputs, full, [v.normal(full * node.out.size)], c.ctx);
  for (const [i, s] of inputs.entries()) {
    s.y.fill(Number.NaN).set(xs[i]!);
    s.dy?.fill(Number.NaN);
  }
  node.out.y.fill(Number.NaN);
  for (const p of params) p.grad?.fill(Number.NaN);
  const dy = v.normal(n * node.out.size);
  runNodes([node], inputs, n, [dy], c.ctx);
  const ref = await onCpu(() =>
    valueAndGrads(
      c.reference,
      [
        ...inputs.map((s, i) => tf.tensor(xs[i]!, [n, ...s.shape])),
        ...params.map((p, j) => tf.tensor(ws[j]!, p.shape)),
      ],
      dy,
    ),
  );
  const rtol = c.rtol ?? 1e-4;
  // Inputs, weights and dy are O(1) by construction: 1 is the scale of the terms each value sums.
  const floor = 1;
  expectClose(valuesOf(node.out, n), ref.y, `${c.label}: output`, rtol, floor);
  inputs.forEach((s, i) => {
    expect(valuesOf(s, n), `${c.label}: input ${s.name} unchanged`).toEqual(xs[i]);
    if (s.dy) expectClose(gradOf(s, n), ref.grads[i]!, `${c.label}: d ${s.name}`, rtol, floor);
  });
  params.forEach((p, j) => {
    expect(p.value, `${c.label}: ${p.name} unchanged`).toEqual(ws[j]);
    if (p.grad) expectClose(p.grad, ref.grads[inputs.length + j]!, `${c.label}: d ${p.name}`, rtol, floor);
  });
}
