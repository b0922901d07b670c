import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type AdamParams, type ConvDims, type MatMulDims, type PoolDims } from './addon.js';
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

  const depthwise = [
    { x: [2, 5, 5, 3], w: [3, 3, 3, 1], s: 1, pad: 'same' as const },
    { x: [2, 6, 7, 3], w: [3, 3, 3, 2], s: 2, pad: 'same' as const },
    { x: [3, 7, 5, 2], w: [2, 3, 2, 3], s: [2, 1] as [number, number], pad: 'valid' as const },
    { x: [4, 14, 14, 16], w: [3, 3, 16, 1], s: 1, pad: 'same' as const },
  ];
  it.each(depthwise)(
    'DepthwiseConv2dNativeBackpropFilter: x $x filter $w strides $s pad $pad, identical to cpu',
    (c) => {
      const x = rand(c.x),
        w = rand(c.w);
      const [got, ref] = both([x, w], (a, b) =>
        tf.grads((p: tf.Tensor, q: tf.Tensor) =>
          tf.sum(tf.square(tf.depthwiseConv2d(p as tf.Tensor4D, q as tf.Tensor4D, c.s, c.pad))),
        )([a!, b!]),
      );
      // cpu's float64 sums in cpu's order: every element is the same float.
      got.forEach((g, k) => expect(Array.from(g), `gradient ${k}`).toEqual(Array.from(ref[k]!)));
      expect(ref[1]!.some((v) => v !== 0)).toBe(true);
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
});

describe.skipIf(!available)('the kernel contract at the C++ boundary', () => {
  // Valid calls, each changed in one place below. The C++ side must refuse every change before it
  // touches memory: an Error (or TypeError) naming the kernel and the shapes, the process intact.
  const f = (n: number) => new Float32Array(n);
  const conv: ConvDims = {
    batch: 2,
    inHeight: 7,
    inWidth: 7,
    inChannels: 3,
    outHeight: 4,
    outWidth: 4,
    outChannels: 5,
    filterHeight: 3,
    filterWidth: 3,
    strideHeight: 2,
    strideWidth: 2,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 1,
    padBottom: 1,
    padLeft: 1,
    padRight: 1,
  };
  const pool: PoolDims = {
    batch: 2,
    inHeight: 6,
    inWidth: 5,
    channels: 3,
    outHeight: 3,
    outWidth: 2,
    filterHeight: 2,
    filterWidth: 2,
    strideHeight: 2,
    strideWidth: 2,
    padTop: 0,
    padBottom: 0,
    padLeft: 0,
    padRight: 0,
  };
  const mm: MatMulDims = {
    batch: 3,
    m: 4,
    k: 5,
    n: 6,
    transposeA: false,
    transposeB: false,
    aBatchStride: 20,
    bBatchStride: 0,
  };
  const adamParams: AdamParams = {
    learningRate: 0.01,
    beta1: 0.9,
    oneMinusBeta1: 0.1,
    beta2: 0.999,
    oneMinusBeta2: 0.001,
    epsilon: 1e-7,
    oneMinusBeta1Power: 0.1,
    oneMinusBeta2Power: 0.001,
  };
  const native = () => addon.addon!;
  const calls = {
    conv2d: (
      d: ConvDims = conv,
      x = f(2 * 7 * 7 * 3),
      w = f(3 * 3 * 3 * 5),
      y = f(2 * 4 * 4 * 5),
      b: Float32Array | null = f(5),
    ) => native().conv2d(x, w, y, b, 1, d),
    conv2dBackpropInput: (d: ConvDims = conv, dx = f(2 * 7 * 7 * 3)) =>
      native().conv2dBackpropInput(f(2 * 4 * 4 * 5), f(3 * 3 * 3 * 5), dx, d),
    conv2dBackpropFilter: (d: ConvDims = conv, dw = f(3 * 3 * 3 * 5)) =>
      native().conv2dBackpropFilter(f(2 * 7 * 7 * 3), f(2 * 4 * 4 * 5), dw, d),
    maxPool: (d: PoolDims = pool, y = f(2 * 3 * 2 * 3)) => native().maxPool(f(2 * 6 * 5 * 3), y, d),
    maxPoolGrad: (d: PoolDims = pool, dx = f(2 * 6 * 5 * 3)) =>
      native().maxPoolGrad(f(2 * 3 * 2 * 3), f(2 * 6 * 5 * 3), dx, d),
    matMul: (d: MatMulDims = mm, a = f(3 * 4 * 5), b = f(5 * 6), c = f(3 * 4 * 6), bias: Float32Array | null = null) =>
      native().matMul(a, b, c, bias, 0, d),
    sumRows: (out = f(4)) => native().sumRows(f(12), out, { rows: 3, columns: 4 }),
    adam: (m = f(8), p: AdamParams = adamParams) => native().adam(f(8), f(8), m, f(8), f(8), p),
  };
  const untyped =
    (fn: (...args: unknown[]) => void, ...args: unknown[]) =>
    () =>
      fn(...args);

  it('accepts the valid calls the cases below are made from', () => {
    for (const call of Object.values(calls)) expect(() => call()).not.toThrow();
  });

  it.each<[string, () => void, RegExp]>([
    [
      'conv2d: x one float short',
      () => calls.conv2d(conv, f(2 * 7 * 7 * 3 - 1)),
      /^native conv2d: x holds 293 floats, but batch×inHeight×inWidth×inChannels = 2×7×7×3 needs 294$/,
    ],
    [
      'conv2d: a filter of the wrong size',
      () => calls.conv2d(conv, undefined, f(3 * 3 * 3 * 4)),
      /native conv2d: w holds 108 floats, but filterHeight×filterWidth×inChannels×outChannels = 3×3×3×5 needs 135/,
    ],
    [
      'conv2d: an output buffer too small',
      () => calls.conv2d(conv, undefined, undefined, f(10)),
      /native conv2d: y holds 10 floats, but batch×outHeight×outWidth×outChannels = 2×4×4×5 needs 160/,
    ],
    [
      'conv2d: a bias per input channel',
      () => calls.conv2d(conv, undefined, undefined, undefined, f(3)),
      /native conv2d: bias holds 3 floats, but there are 5 output channels/,
    ],
    [
      'conv2d: an output height the geometry does not give',
      () => calls.conv2d({ ...conv, outHeight: 5 }, undefined, undefined, f(2 * 5 * 4 * 5)),
      /native conv2d: height: output 5 does not follow from input 7, filter 3 \(dilation 1\), stride 2, padding 1\+1 \(expected 4\)/,
    ],
    [
      'conv2d: a zero stride',
      () => calls.conv2d({ ...conv, strideWidth: 0 }),
      /native conv2d: strideWidth must be an integer in \[1, 2147483647\], got 0/,
    ],
    [
      'conv2d: a negative pad',
      () => calls.conv2d({ ...conv, padLeft: -1 }),
      /native conv2d: padLeft must be an integer in \[0, 2147483647\], got -1/,
    ],
    [
      'conv2d: a fractional dimension',
      () => calls.conv2d({ ...conv, batch: 1.5 }),
      /native conv2d: batch must be an integer/,
    ],
    [
      'conv2dBackpropInput: dx for another batch size',
      () => calls.conv2dBackpropInput(conv, f(1 * 7 * 7 * 3)),
      /native conv2dBackpropInput: dx holds 147 floats, but batch×inHeight×inWidth×inChannels = 2×7×7×3 needs 294/,
    ],
    [
      'conv2dBackpropFilter: dims for more channels than the arrays hold',
      () => calls.conv2dBackpropFilter({ ...conv, inChannels: 4 }),
      /native conv2dBackpropFilter: x holds 294 floats, but batch×inHeight×inWidth×inChannels = 2×7×7×4 needs 392/,
    ],
    [
      'maxPool: y too large',
      () => calls.maxPool(pool, f(2 * 3 * 3 * 3)),
      /native maxPool: y holds 54 floats, but batch×outHeight×outWidth×channels = 2×3×2×3 needs 36/,
    ],
    [
      'maxPool: an output width the geometry does not give',
      () => calls.maxPool({ ...pool, outWidth: 4 }),
      /native maxPool: width: output 4 does not follow from input 5, filter 2/,
    ],
    [
      'maxPoolGrad: dx one float short',
      () => calls.maxPoolGrad(pool, f(2 * 6 * 5 * 3 - 1)),
      /native maxPoolGrad: dx holds 179 floats/,
    ],
    [
      'matMul: c for one batch entry fewer',
      () => calls.matMul(mm, undefined, undefined, f(2 * 4 * 6)),
      /native matMul: c holds 48 floats, but batch×m×n = 3×4×6 needs 72/,
    ],
    [
      'matMul: a batch stride that is not m·k',
      () => calls.matMul({ ...mm, aBatchStride: 21 }),
      /native matMul: aBatchStride is 21, but a's matrices are m×k = 4×5/,
    ],
    [
      'matMul: b batched where the dims say broadcast',
      () => calls.matMul(mm, undefined, f(3 * 5 * 6)),
      /native matMul: b holds 90 floats, but k×n = 5×6 needs 30/,
    ],
    [
      'matMul: a bias of the wrong length',
      () => calls.matMul(mm, undefined, undefined, undefined, f(5)),
      /native matMul: bias holds 5 floats, but there are 6 output channels/,
    ],
    [
      'matMul: a transpose flag that is not a boolean',
      () => calls.matMul({ ...mm, transposeA: 1 as unknown as boolean }),
      /native matMul: dims.transposeA must be a boolean/,
    ],
    [
      'sumRows: out of the wrong length',
      () => calls.sumRows(f(3)),
      /native sumRows: out holds 3 floats, but columns = 4 needs 4/,
    ],
    [
      'adam: a moment of another length',
      () => calls.adam(f(7)),
      /native adam: m holds 7 floats, but w's length = 8 needs 8/,
    ],
    [
      'adam: a NaN learning rate',
      () => calls.adam(undefined, { ...adamParams, learningRate: Number.NaN }),
      /native adam: learningRate must be a finite number/,
    ],
  ])('%s throws, naming the kernel and the shapes', (_what, call, message) => {
    expect(call).toThrow(message);
  });

  it.each<[string, () => void, RegExp]>([
    [
      'too few arguments',
      untyped(native().maxPool as never, f(1), f(1)),
      /^native maxPool: expects 3 arguments \(x, y, dims\), got 2$/,
    ],
    [
      'a Float64Array',
      untyped(native().maxPool as never, new Float64Array(180), f(36), pool),
      /native maxPool: x must be a Float32Array$/,
    ],
    [
      'a missing dimension',
      untyped(
        native().maxPool as never,
        f(180),
        f(36),
        Object.fromEntries(Object.entries(pool).filter(([k]) => k !== 'padRight')),
      ),
      /^native maxPool: dims.padRight is missing$/,
    ],
    [
      'a dimension that is not a number',
      untyped(native().maxPool as never, f(180), f(36), { ...pool, padRight: '0' }),
      /^native maxPool: padRight must be a number$/,
    ],
    [
      'dims that are not an object',
      untyped(native().sumRows as never, f(12), f(4), 3),
      /native sumRows: dims must be an object of named dimensions/,
    ],
    [
      'a null output',
      untyped(native().sumRows as never, f(12), null, { rows: 3, columns: 4 }),
      /native sumRows: out must be a Float32Array$/,
    ],
  ])('%s is a TypeError naming the kernel', (_what, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });

  it('still computes after refusing bad calls', () => {
    const out = f(4);
    native().sumRows(
      Float32Array.from({ length: 12 }, (_, i) => i),
      out,
      { rows: 3, columns: 4 },
    );
    expect(Array.from(out)).toEqual([12, 15, 18, 21]);
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
