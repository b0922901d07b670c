import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdam } from './adam.js';
import { loadAddon } from './addon.js';
import { NATIVE_BACKEND, registerNativeBackend } from './backend.js';

// Every native kernel against tfjs' reference cpu backend, on seeded random data with odd sizes,
// strides, padding and dilations; gradients through tf.grads on both backends.

let seed = 1;
function rand(shape: number[], map: (v: number) => number = (v) => v): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed++ * 7919;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return tf.tensor(
    Float32Array.from({ length: n }, () => map(next() * 2 - 1)),
    shape,
  );
}

/** Runs `f` on cpu and on native with the same input values; returns both results as arrays. */
function both(
  inputs: tf.Tensor[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): [Float32Array[], Float32Array[]] {
  const data = inputs.map((t) => ({ v: t.dataSync().slice(), shape: t.shape, dtype: t.dtype }));
  const run = (backend: string) => {
    tf.setBackend(backend);
    return tf.tidy(() => {
      const out = f(...data.map((d) => tf.tensor(d.v, d.shape, d.dtype)));
      return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync().slice() as Float32Array);
    });
  };
  const ref = run('cpu');
  const got = run(NATIVE_BACKEND);
  return [got, ref];
}

/** Float32 sums of `terms` products drift by ~eps·terms; a wrong index is off by a whole term. */
function expectClose(got: Float32Array[], ref: Float32Array[], terms: number, what: string): void {
  expect(got.length).toBe(ref.length);
  got.forEach((g, k) => {
    const r = ref[k]!;
    expect(g.length, `${what}[${k}] length`).toBe(r.length);
    let worst = 0;
    for (let i = 0; i < r.length; i++) {
      const excess = Math.abs(g[i]! - r[i]!) / (2e-6 * terms + 1e-5 * Math.abs(r[i]!) + 1e-6);
      if (!(excess <= 1)) throw new Error(`${what}[${k}] at ${i}: native ${g[i]} vs cpu ${r[i]}`);
      worst = Math.max(worst, excess);
    }
  });
}

const addon = loadAddon();
const available = !!addon.addon;
if (!available) console.warn(`native kernels not tested: ${addon.why}`);

describe.skipIf(!available)('native backend vs cpu', () => {
  beforeAll(() => {
    const reg = registerNativeBackend(tf);
    expect(reg.ok, reg.why).toBe(true);
  });

  const matmuls: Array<[number[], number[], boolean, boolean]> = [
    [[1, 1], [1, 1], false, false],
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[37, 131], [131, 17], false, false],
    [[131, 37], [17, 131], true, true],
    [[128, 784], [784, 300], false, false],
    [[3, 9, 6], [3, 6, 19], false, false],
    [[2, 6, 9], [1, 6, 19], true, false],
    [[1, 9, 6], [4, 19, 6], false, true],
    [[2, 3, 5, 4], [2, 3, 4, 6], false, false],
  ];
  it.each(matmuls)('BatchMatMul %j × %j transposeA=%s transposeB=%s, and its gradients', (sa, sb, ta, tb) => {
    const a = rand(sa),
      b = rand(sb);
    const k = ta ? sa[sa.length - 2]! : sa[sa.length - 1]!;
    const [got, ref] = both([a, b], (x, y) => tf.matMul(x!, y!, ta, tb));
    expectClose(got, ref, k, 'matMul');
    // tfjs' BatchMatMul gradient rejects broadcast batches on every backend: forward only there.
    if (sa.slice(0, -2).join() !== sb.slice(0, -2).join()) return;
    const [g2, r2] = both([a, b], (x, y) =>
      tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        tf.sum(tf.mul(tf.matMul(p, q, ta, tb), tf.sin(tf.matMul(p, q, ta, tb)))),
      )([x!, y!]),
    );
    expectClose(g2, r2, 4 * Math.max(...sa, ...sb), 'matMul grads');
  });

  it.each([
    ['relu', true],
    ['linear', true],
    ['relu', false],
    ['elu', true], // not fused natively: falls back to cpu's kernel
  ] as const)('_FusedMatMul activation %s bias %s, and its gradients', (activation, withBias) => {
    const a = rand([33, 47]),
      b = rand([47, 29]),
      bias = rand([29]);
    const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
      tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: withBias ? z : undefined, activation });
    const [got, ref] = both([a, b, bias], (x, y, z) => f(x!, y!, z!));
    expectClose(got, ref, 47, 'fused matMul');
    const [g2, r2] = withBias
      ? both([a, b, bias], (x, y, z) =>
          tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.square(f(p, q, r))))([x!, y!, z!]),
        )
      : both([a, b, bias], (x, y, z) =>
          tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(f(p, q, z!))))([x!, y!]),
        );
    expectClose(g2, r2, 47 * 29 * 2, 'fused matMul grads');
  });

  type Case = {
    x: [number, number, number, number];
    w: [number, number, number, number];
    s: number | [number, number];
    pad: 'same' | 'valid' | number;
    d?: number;
  };
  const convs: Case[] = [
    { x: [1, 1, 1, 1], w: [1, 1, 1, 1], s: 1, pad: 'valid' },
    { x: [1, 5, 5, 1], w: [3, 3, 1, 1], s: 1, pad: 'same' },
    { x: [2, 7, 7, 3], w: [3, 3, 3, 5], s: 2, pad: 'same' },
    { x: [3, 13, 11, 2], w: [3, 4, 2, 7], s: 2, pad: 'valid' },
    { x: [3, 13, 11, 2], w: [3, 4, 2, 7], s: [2, 3], pad: 'same' },
    { x: [2, 8, 8, 4], w: [3, 3, 4, 6], s: 1, pad: 1 },
    { x: [2, 9, 10, 3], w: [3, 2, 3, 4], s: 1, pad: 'same', d: 2 },
    { x: [5, 28, 28, 1], w: [5, 5, 1, 20], s: 1, pad: 'valid' },
    { x: [5, 12, 12, 20], w: [5, 5, 20, 50], s: 1, pad: 'valid' },
    { x: [2, 40, 37, 3], w: [3, 3, 3, 17], s: 1, pad: 'same' },
  ];
  it.each(convs)(
    'Conv2D, FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter: x $x w $w strides $s pad $pad dilation $d',
    (c) => {
      const x = rand(c.x),
        w = rand(c.w),
        bias = rand([c.w[3]]);
      const terms = c.w[0] * c.w[1] * c.w[2];
      const conv = (p: tf.Tensor, q: tf.Tensor) =>
        tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d ?? 1);
      const [got, ref] = both([x, w], (p, q) => conv(p!, q!));
      expectClose(got, ref, terms, 'conv2d');
      const fused = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
        tf.fused.conv2d({
          x: p as tf.Tensor4D,
          filter: q as tf.Tensor4D,
          strides: c.s,
          pad: c.pad,
          dilations: c.d ?? 1,
          bias: r,
          activation: 'relu',
        });
      const [gf, rf] = both([x, w, bias], (p, q, r) => fused(p!, q!, r!));
      expectClose(gf, rf, terms, 'fused conv2d');
      if (c.d && c.d > 1) return; // tfjs defines no gradient for dilated convolutions with strides > 1; cpu has none to compare
      // Gradients with respect to x (Conv2DBackpropInput) and w (Conv2DBackpropFilter), and the bias (Sum).
      const [gg, rg] = both([x, w, bias], (p, q, r) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(fused(a, b, z), tf.cos(conv(a, b)))))([
          p!,
          q!,
          r!,
        ]),
      );
      const outPositions = got[0]!.length / c.w[3];
      expectClose(gg, rg, Math.max(terms * c.w[3], outPositions) * 4, 'conv2d grads');
    },
  );

  const pools: Array<{
    x: [number, number, number, number];
    f: number | [number, number];
    s: number | [number, number];
    pad: 'same' | 'valid';
  }> = [
    { x: [1, 1, 1, 1], f: 1, s: 1, pad: 'valid' },
    { x: [2, 24, 24, 20], f: 2, s: 2, pad: 'valid' },
    { x: [3, 7, 9, 5], f: 3, s: 2, pad: 'same' },
    { x: [2, 11, 6, 3], f: [3, 2], s: [1, 2], pad: 'valid' },
    { x: [2, 5, 5, 4], f: 2, s: 1, pad: 'same' },
  ];
  it.each(pools)(
    'MaxPool and MaxPoolGrad: x $x filter $f strides $s pad $pad (negative and tied windows included)',
    (c) => {
      // All-negative windows (the wasm bug) and exact ties (rounded values) on purpose.
      const x = rand(c.x, (v) => Math.round(v * 4) / 4 - 0.5);
      const pool = (p: tf.Tensor) => tf.maxPool(p as tf.Tensor4D, c.f, c.s, c.pad);
      const [got, ref] = both([x], (p) => pool(p!));
      expectClose(got, ref, 1, 'maxPool');
      const [gg, rg] = both([x], (p) =>
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a), tf.range(1, pool(a).size + 1).reshape(pool(a).shape))))(p!),
      );
      expectClose(gg, rg, 1, 'maxPool grad');
    },
  );

  it.each([
    [[7, 3], [0]],
    [
      [128, 24, 24, 20],
      [0, 1, 2],
    ],
    [
      [5, 4, 3],
      [0, 1, 2],
    ],
    [[5, 4, 3], [1]], // not leading axes: cpu's kernel
    [
      [5, 4, 3],
      [-3, -2],
    ],
  ])('Sum %j over axes %j', (shape, axes) => {
    const x = rand(shape);
    const [got, ref] = both([x], (p) => tf.sum(p!, axes));
    expectClose(
      got,
      ref,
      shape.reduce((a, b) => a * b, 1),
      'sum',
    );
    const [gk, rk] = both([x], (p) => tf.sum(p!, axes, true));
    expectClose(
      gk,
      rk,
      shape.reduce((a, b) => a * b, 1),
      'sum keepDims',
    );
  });

  it('an int32 matMul falls back to the cpu kernel', () => {
    const a = tf.tensor(
        [
          [1, 2],
          [3, 4],
        ],
        undefined,
        'int32',
      ),
      b = tf.tensor([[5], [6]], undefined, 'int32');
    const [got, ref] = both([a, b], (x, y) => tf.matMul(x!, y!));
    expect(Array.from(got[0]!)).toEqual(Array.from(ref[0]!));
  });

  it('fused Adam follows tfjs Adam step for step', () => {
    const shapes = [[37, 11], [11], [3, 3, 2, 5]];
    const init = shapes.map((s) => rand(s).dataSync().slice());
    const grads = Array.from({ length: 5 }, () => shapes.map((s) => rand(s).dataSync().slice()));
    const run = (backend: string) => {
      tf.setBackend(backend);
      const vars = shapes.map((s, i) => tf.variable(tf.tensor(init[i]!, s), true, `adam_${backend}_${i}`));
      const opt = createAdam(tf, 0.01);
      for (const g of grads)
        opt.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, tf.tensor(g[i]!, shapes[i])])));
      const out = vars.map((v) => v.dataSync().slice() as Float32Array);
      opt.dispose();
      tf.dispose(vars);
      return { out, kind: opt.constructor.name };
    };
    const ref = run('cpu'),
      got = run(NATIVE_BACKEND);
    expect(got.kind).toBe('FusedAdam');
    expect(ref.kind).toBe('AdamOptimizer');
    expectClose(got.out, ref.out, 4, 'adam');
  });
});

describe.skipIf(!available)('recycled output buffers', () => {
  it('reuse disposed outputs, never one that was read out or is still seen through a view', async () => {
    registerNativeBackend(tf);
    await tf.setBackend(NATIVE_BACKEND);
    const { pooled } = await import('./buffers.js');
    const a = tf.randomNormal([64, 512]),
      b = tf.randomNormal([512, 300]);
    // Read out, then disposed: the array the caller holds must keep its values.
    const c1 = tf.matMul(a, b);
    const read = c1.dataSync();
    const kept = read.slice();
    c1.dispose();
    // A view (cpu's Slice of a contiguous block is a subarray) outlives its parent.
    const c2 = tf.matMul(a, b);
    const view = tf.slice(c2, [0, 0], [2, 300]);
    const viewValues = view.dataSync().slice();
    c2.dispose();
    // Disposed and never seen: recycled.
    const before = pooled().arrays;
    tf.matMul(a, b).dispose();
    expect(pooled().arrays).toBe(before + 1);
    for (let i = 0; i < 5; i++) tf.tidy(() => tf.matMul(tf.mul(a, 2), b)); // churn the pool
    expect(Array.from(read)).toEqual(Array.from(kept));
    expect(Array.from(view.dataSync())).toEqual(Array.from(viewValues));
    // And recycled outputs are fully overwritten.
    const ref = tf.matMul(a, b).dataSync().slice();
    tf.matMul(tf.mul(a, 3), b).dispose();
    expect(Array.from(tf.matMul(a, b).dataSync())).toEqual(Array.from(ref));
    tf.dispose([a, b, view]);
  });
});
