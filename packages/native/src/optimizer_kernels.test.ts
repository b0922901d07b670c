import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeOptimizerKernels } from './optimizer_kernels.js';
import { loadAddon, type AdamParams, type SgdParams } from './addon.js';
import { NATIVE_BACKEND, registerNativeBackend } from './backend.js';

// The fused sgd and adam kernels against plain-JS float32 references (PyTorch's formulas, one
// Math.fround per operation) and, where tfjs has the same optimizer, against tfjs on cpu. Each case
// also differs from the same reference with its feature turned off, so it does test that feature.

const fr = Math.fround;
const load = loadAddon();
const available = !!load.addon;
if (!available) console.warn(`native optimizer kernels not tested: ${load.why}`);

function randoms(n: number, seed: number): Float32Array {
  let s = seed * 7919;
  return Float32Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) % 2147483648) / 1073741824 - 1);
}

/**
 * How far `got` is from `ref` in units of the tolerance, worst element (≤ 1 passes): 1e-6 of the
 * array's largest magnitude. Relative to the array, not to each element: the compiler may fuse a
 * multiply-add (one rounding fewer than the reference), and where w − lr·d nearly cancels, that
 * rounding is large next to the element yet tiny next to the weights.
 */
function excess(got: Float32Array, ref: Float32Array): number {
  expect(got.length).toBe(ref.length);
  const unit = 1e-6 * ref.reduce((a, r) => Math.max(a, Math.abs(r)), 0) || Number.MIN_VALUE; // all zeros: exact
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i]! - ref[i]!) / unit;
    worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(worst, e);
  }
  return worst;
}

function expectClose(got: Float32Array, ref: Float32Array, what: string): void {
  expect(excess(got, ref), what).toBeLessThanOrEqual(1);
}

const N = 1003;
const STEPS = 5;

interface SgdSetting {
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  gradScale: number;
}

/** PyTorch's SGD step (dampening 0) in float32; buf starts at zeros, which gives buf = g' at step 1. */
function sgdReference(w: Float32Array, g: Float32Array, buf: Float32Array, s: SgdSetting): Float32Array {
  const lr = fr(s.lr),
    mu = fr(s.momentum),
    l2 = fr(s.weightDecay),
    scale = fr(s.gradScale);
  return w.map((wi, i) => {
    const gi = fr(fr(g[i]! * scale) + fr(l2 * wi));
    let d = gi;
    if (mu > 0) {
      const b = fr(fr(mu * buf[i]!) + gi);
      buf[i] = b;
      d = s.nesterov ? fr(gi + fr(mu * b)) : b;
    }
    return fr(wi - fr(lr * d));
  });
}

interface AdamSetting {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  decoupled: boolean;
  gradScale: number;
}

/** The per-step float32 constants, as FusedAdam forms them (t counts from 1). */
function adamParams(s: AdamSetting, t: number): AdamParams {
  let acc1 = fr(s.beta1),
    acc2 = fr(s.beta2);
  for (let k = 1; k < t; k++) (acc1 = fr(acc1 * fr(s.beta1))), (acc2 = fr(acc2 * fr(s.beta2)));
  return {
    learningRate: s.lr,
    beta1: s.beta1,
    oneMinusBeta1: fr(1 - s.beta1),
    beta2: s.beta2,
    oneMinusBeta2: fr(1 - s.beta2),
    epsilon: s.epsilon,
    oneMinusBeta1Power: fr(1 - acc1),
    oneMinusBeta2Power: fr(1 - acc2),
    weightDecay: s.weightDecay,
    decoupled: s.decoupled ? 1 : 0,
    gradScale: s.gradScale,
  };
}

/** Adam (L2 in the gradient) or AdamW (PyTorch: w·(1 − lr·λ), that factor in double) in float32. */
function adamReference(
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  p: AdamParams,
): Float32Array {
  const lr = fr(p.learningRate),
    b1 = fr(p.beta1),
    omb1 = fr(p.oneMinusBeta1),
    b2 = fr(p.beta2),
    omb2 = fr(p.oneMinusBeta2),
    eps = fr(p.epsilon),
    c1 = fr(p.oneMinusBeta1Power),
    c2 = fr(p.oneMinusBeta2Power),
    wd = p.weightDecay ?? 0,
    scale = fr(p.gradScale ?? 1);
  const keep = p.decoupled ? fr(1 - p.learningRate * wd) : 1;
  const l2 = p.decoupled ? 0 : fr(wd);
  return w.map((wi, i) => {
    const gi = fr(fr(g[i]! * scale) + fr(l2 * wi));
    const mi = fr(fr(m[i]! * b1) + fr(gi * omb1));
    const vi = fr(fr(v[i]! * b2) + fr(fr(gi * gi) * omb2));
    m[i] = mi;
    v[i] = vi;
    const step = fr(fr(fr(mi / c1) / fr(fr(Math.sqrt(fr(vi / c2))) + eps)) * -lr);
    return fr(step + fr(wi * keep));
  });
}

/** Runs `steps` updates from one start with seeded gradients; returns the weights and the state after each. */
function trajectory(
  n: number,
  steps: number,
  state: number,
  update: (w: Float32Array, g: Float32Array, state: Float32Array[], t: number) => Float32Array,
): { w: Float32Array[]; state: Float32Array[][] } {
  let w = randoms(n, 1);
  const st = Array.from({ length: state }, () => new Float32Array(n));
  const ws: Float32Array[] = [],
    states: Float32Array[][] = [];
  for (let t = 1; t <= steps; t++) {
    w = update(w, randoms(n, 100 + t), st, t);
    ws.push(w);
    states.push(st.map((a) => a.slice()));
  }
  return { w: ws, state: states };
}

function sgdParams(s: SgdSetting): SgdParams {
  return {
    learningRate: s.lr,
    momentum: s.momentum,
    nesterov: s.nesterov ? 1 : 0,
    weightDecay: s.weightDecay,
    gradScale: s.gradScale,
  };
}

const kernels = () => load.addon!;

function sgdKernelRun(s: SgdSetting, n = N, steps = STEPS) {
  return trajectory(n, steps, 1, (w, g, [buf], _t) => {
    const out = new Float32Array(n);
    kernels().sgd(w, g, s.momentum > 0 ? buf! : new Float32Array(0), out, sgdParams(s));
    return out;
  });
}

function sgdReferenceRun(s: SgdSetting, n = N, steps = STEPS) {
  return trajectory(n, steps, 1, (w, g, [buf]) => sgdReference(w, g, buf!, s));
}

function adamKernelRun(s: AdamSetting, n = N, steps = STEPS) {
  return trajectory(n, steps, 2, (w, g, [m, v], t) => {
    const out = new Float32Array(n);
    kernels().adam(w, g, m!, v!, out, adamParams(s, t));
    return out;
  });
}

function adamReferenceRun(s: AdamSetting, n = N, steps = STEPS) {
  return trajectory(n, steps, 2, (w, g, [m, v], t) => adamReference(w, g, m!, v!, adamParams(s, t)));
}

/** Every step's weights and state within tolerance. */
function expectSameTrajectory(got: ReturnType<typeof trajectory>, ref: ReturnType<typeof trajectory>): void {
  got.w.forEach((w, t) => {
    expectClose(w, ref.w[t]!, `w after step ${t + 1}`);
    got.state[t]!.forEach((a, k) => expectClose(a, ref.state[t]![k]!, `state ${k} after step ${t + 1}`));
  });
}

/** The last weights differ beyond tolerance: the feature turned off is visible to this test. */
function expectDistinct(got: ReturnType<typeof trajectory>, without: ReturnType<typeof trajectory>): void {
  expect(excess(got.w.at(-1)!, without.w.at(-1)!)).toBeGreaterThan(100);
}

/** tfjs' own optimizer on cpu, from the same start with the same gradients. */
function tfjsRun(make: () => tf.Optimizer, n = N, steps = STEPS): Float32Array[] {
  const w = tf.variable(tf.tensor(randoms(n, 1)));
  const opt = make();
  const out: Float32Array[] = [];
  for (let t = 1; t <= steps; t++) {
    tf.tidy(() => opt.applyGradients({ [w.name]: tf.tensor(randoms(n, 100 + t)) }));
    out.push(w.dataSync().slice() as Float32Array);
  }
  opt.dispose();
  w.dispose();
  return out;
}

const plain: SgdSetting = { lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0, gradScale: 1 };

describe.skipIf(!available)('the fused sgd kernel', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each<[string, SgdSetting, Partial<SgdSetting> | undefined]>([
    ['plain SGD', plain, undefined],
    ['momentum 0.9', { ...plain, momentum: 0.9 }, { momentum: 0 }],
    ['Nesterov momentum 0.9', { ...plain, momentum: 0.9, nesterov: true }, { nesterov: false }],
    ['weight decay 5e-4', { ...plain, weightDecay: 5e-4 }, { weightDecay: 0 }],
    ['momentum 0.9, weight decay 5e-4', { ...plain, momentum: 0.9, weightDecay: 5e-4 }, { weightDecay: 0 }],
    ['gradient scale 0.5', { ...plain, gradScale: 0.5 }, { gradScale: 1 }],
    [
      'Nesterov, weight decay and gradient scale together',
      { ...plain, momentum: 0.9, nesterov: true, weightDecay: 5e-4, gradScale: 0.5 },
      { gradScale: 1 },
    ],
  ])('%s follows the float32 reference step for step', (_what, s, off) => {
    const got = sgdKernelRun(s);
    expectSameTrajectory(got, sgdReferenceRun(s));
    if (off) expectDistinct(got, sgdReferenceRun({ ...s, ...off }));
  });

  it.each<[string, SgdSetting, () => tf.Optimizer]>([
    ['tf.train.sgd', plain, () => tf.train.sgd(0.1)],
    ['tf.train.momentum', { ...plain, momentum: 0.9 }, () => tf.train.momentum(0.1, 0.9)],
    [
      'tf.train.momentum with Nesterov',
      { ...plain, momentum: 0.9, nesterov: true },
      () => tf.train.momentum(0.1, 0.9, true),
    ],
  ])('matches %s on cpu', (_what, s, make) => {
    const got = sgdKernelRun(s).w;
    const ref = tfjsRun(make);
    got.forEach((w, t) => expectClose(w, ref[t]!, `w after step ${t + 1}`));
  });

  it('splits a large array over the threads with the same result', () => {
    const s = { ...plain, momentum: 0.9, nesterov: true, weightDecay: 5e-4, gradScale: 0.5 };
    expectSameTrajectory(sgdKernelRun(s, 200_003, 2), sgdReferenceRun(s, 200_003, 2));
  });

  it('updates in place when out is w, and leaves buf alone without momentum', () => {
    const w = randoms(N, 1),
      g = randoms(N, 2),
      apart = new Float32Array(N);
    kernels().sgd(w, g, new Float32Array(0), apart, sgdParams(plain));
    const buf = randoms(N, 3),
      bufBefore = buf.slice();
    kernels().sgd(w, g, buf, w, sgdParams(plain));
    expect(w).toEqual(apart);
    expect(buf).toEqual(bufBefore);
  });

  const f = (n: number) => new Float32Array(n);
  const momentum: SgdParams = { learningRate: 0.1, momentum: 0.9, nesterov: 0, weightDecay: 0, gradScale: 1 };
  const { momentum: _m, ...withoutMomentum } = momentum as unknown as Record<string, unknown>;
  const call =
    (g = f(8), buf = f(8), out = f(8), p: SgdParams = momentum) =>
    () =>
      kernels().sgd(f(8), g, buf, out, p);

  it('accepts the valid call the cases below are made from', () => {
    expect(call()).not.toThrow();
    expect(call(undefined, f(0), undefined, { ...momentum, momentum: 0 })).not.toThrow();
  });

  it.each<[string, () => void, RegExp]>([
    ['g one float short', call(f(7)), /^native sgd: g holds 7 floats, but w's length = 8 needs 8$/],
    ['out too long', call(undefined, undefined, f(9)), /^native sgd: out holds 9 floats, but w's length = 8 needs 8$/],
    [
      'an empty buf with momentum',
      call(undefined, f(0)),
      /^native sgd: buf holds 0 floats, but w's length \(momentum > 0\) = 8 needs 8$/,
    ],
    [
      'a buf of another length without momentum',
      call(undefined, f(5), undefined, { ...momentum, momentum: 0 }),
      /^native sgd: buf holds 5 floats, but momentum is 0: it must be empty or hold w's length 8$/,
    ],
    [
      'a missing momentum',
      call(undefined, undefined, undefined, withoutMomentum as unknown as SgdParams),
      /^native sgd: dims\.momentum is missing$/,
    ],
    [
      'a negative weight decay',
      call(undefined, undefined, undefined, { ...momentum, weightDecay: -1 }),
      /^native sgd: weightDecay must be at least 0, got -1$/,
    ],
    [
      'a NaN gradient scale',
      call(undefined, undefined, undefined, { ...momentum, gradScale: Number.NaN }),
      /^native sgd: gradScale must be a finite number$/,
    ],
    [
      'nesterov as 2',
      call(undefined, undefined, undefined, { ...momentum, nesterov: 2 as never }),
      /^native sgd: nesterov must be an integer in \[0, 1\], got 2$/,
    ],
    [
      'Nesterov without momentum',
      call(undefined, f(0), undefined, { ...momentum, momentum: 0, nesterov: 1 }),
      /^native sgd: nesterov needs momentum > 0, got 0$/,
    ],
  ])('%s throws, naming sgd and the shapes', (_what, fn, message) => {
    expect(fn).toThrow(message);
  });
});

const adam: AdamSetting = {
  lr: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
  weightDecay: 0,
  decoupled: false,
  gradScale: 1,
};

describe.skipIf(!available)('the fused adam kernel with weight decay and gradient scaling', () => {
  it.each<[string, AdamSetting, Partial<AdamSetting> | undefined]>([
    ['Adam', adam, undefined],
    ['Adam with L2 weight decay 0.01', { ...adam, weightDecay: 0.01 }, { weightDecay: 0 }],
    ['Adam with L2 and gradient scale 0.5', { ...adam, weightDecay: 0.01, gradScale: 0.5 }, { gradScale: 1 }],
    ['AdamW with weight decay 0.01', { ...adam, weightDecay: 0.01, decoupled: true }, { decoupled: false }],
    [
      'AdamW with gradient scale 0.5',
      { ...adam, weightDecay: 0.01, decoupled: true, gradScale: 0.5 },
      { decoupled: false },
    ],
  ])('%s follows the float32 reference step for step', (_what, s, off) => {
    const got = adamKernelRun(s);
    expectSameTrajectory(got, adamReferenceRun(s));
    if (off) expectDistinct(got, adamReferenceRun({ ...s, ...off }));
  });

  it('scales the gradient the moments see', () => {
    // Adam's step hardly changes with a scaled gradient (m/√v), but the moments do.
    const s = { ...adam, weightDecay: 0.01, decoupled: true, gradScale: 0.5 };
    const got = adamKernelRun(s, N, 1).state[0]!,
      unscaled = adamReferenceRun({ ...s, gradScale: 1 }, N, 1).state[0]!;
    got.forEach((moment, k) => expect(excess(moment, unscaled[k]!)).toBeGreaterThan(100));
  });

  it('splits a large array over the threads with the same result', () => {
    const s = { ...adam, weightDecay: 0.01, decoupled: true, gradScale: 0.5 };
    expectSameTrajectory(adamKernelRun(s, 200_003, 2), adamReferenceRun(s, 200_003, 2));
  });

  it('is exactly the plain kernel when the new fields are left out or neutral', () => {
    const run = (extra: Partial<AdamParams>) =>
      trajectory(N, STEPS, 2, (w, g, [m, v], t) => {
        const out = new Float32Array(N);
        const { weightDecay: _w, decoupled: _d, gradScale: _s, ...base } = adamParams(adam, t);
        kernels().adam(w, g, m!, v!, out, { ...base, ...extra });
        return out;
      });
    const omitted = run({}),
      neutral = run({ weightDecay: 0, decoupled: 0, gradScale: 1 }),
      decoupledNoDecay = run({ weightDecay: 0, decoupled: 1, gradScale: 1 });
    expect(neutral).toEqual(omitted);
    expect(decoupledNoDecay).toEqual(omitted);
  });

  const f = (n: number) => new Float32Array(n);
  const p = adamParams({ ...adam, weightDecay: 0.01, decoupled: true }, 1);
  it.each<[string, AdamParams, RegExp]>([
    [
      'decoupled as 2',
      { ...p, decoupled: 2 as never },
      /^native adam: decoupled must be an integer in \[0, 1\], got 2$/,
    ],
    ['a negative weight decay', { ...p, weightDecay: -0.1 }, /^native adam: weightDecay must be at least 0, got -0.1$/],
    [
      'an infinite gradient scale',
      { ...p, gradScale: Number.POSITIVE_INFINITY },
      /^native adam: gradScale must be a finite number$/,
    ],
  ])('%s throws, naming adam', (_what, params, message) => {
    expect(() => kernels().adam(f(8), f(8), f(8), f(8), f(8), params)).toThrow(message);
  });
});

describe('nativeOptimizerKernels', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('is undefined while another backend is active', async () => {
    await tf.setBackend('cpu');
    expect(nativeOptimizerKernels(tf)).toBeUndefined();
  });

  it.skipIf(!available)('gives the addon’s kernels on the native backend', async () => {
    expect(registerNativeBackend(tf).ok).toBe(true);
    await tf.setBackend(NATIVE_BACKEND);
    const k = nativeOptimizerKernels(tf);
    expect(k?.sgd).toBe(load.addon!.sgd);
    expect(k?.adam).toBe(load.addon!.adam);
  });
});
