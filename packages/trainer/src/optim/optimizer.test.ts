import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { selectBackend } from '@squash/backend';
import { TrainingOptimizer } from './optimizer.js';
import { adamUpdate, clipScale, sgdUpdate } from './update.js';
import type { OptimizerSettings } from './settings.js';

// Two variables and a fixed, seeded sequence of gradients: every optimizer is run for a few steps
// and compared with a reference — tfjs' own optimizers where they mean the same thing, otherwise
// the formulas written out in float64 (PyTorch's definitions).
const SHAPES = [[7, 5], [5]];
const STEPS = 5;

function gradientSequence(seed: number): Float32Array[][] {
  const rng = createRng(seed);
  return Array.from({ length: STEPS }, () =>
    SHAPES.map((s) => Float32Array.from({ length: s[0]! * (s[1] ?? 1) }, () => rng.next() * 2 - 1)),
  );
}

function initial(seed: number): Float32Array[] {
  const rng = createRng(seed);
  return SHAPES.map((s) => Float32Array.from({ length: s[0]! * (s[1] ?? 1) }, () => rng.next() - 0.5));
}

/** Runs `apply(vars, grads, step)` over the sequence; returns the final values. */
function run(apply: (vars: tf.Variable[], grads: tf.Tensor[], step: number) => void): Float32Array[] {
  const vars = initial(1).map((v, i) => tf.variable(tf.tensor(v, SHAPES[i]!)));
  gradientSequence(2).forEach((gs, step) => {
    const grads = gs.map((g, i) => tf.tensor(g, SHAPES[i]!));
    apply(vars, grads, step);
    tf.dispose(grads);
  });
  const out = vars.map((v) => v.dataSync() as Float32Array);
  tf.dispose(vars);
  return out;
}

function ours(settings: Partial<OptimizerSettings>, lr: (step: number) => number = () => 0.01) {
  let opt: TrainingOptimizer | undefined;
  return run((vars, grads, step) => {
    opt ??= new TrainingOptimizer(vars, settings);
    opt.step(grads, lr(step));
  });
}

function tfjs(optimizer: tf.Optimizer) {
  return run((vars, grads) => optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i]! }))));
}

/** float64 reference: PyTorch's SGD (dampening 0) / Adam / AdamW, clipping by global norm. */
function reference(s: Partial<OptimizerSettings>, lr = 0.01): Float64Array[] {
  const w = initial(1).map((v) => Float64Array.from(v));
  const a = w.map((v) => new Float64Array(v.length));
  const b = w.map((v) => new Float64Array(v.length));
  const wd = s.weightDecay ?? 0;
  const [b1, b2, eps] = [s.beta1 ?? 0.9, s.beta2 ?? 0.999, s.epsilon ?? 1e-7];
  gradientSequence(2).forEach((gs, t) => {
    let norm = 0;
    for (const g of gs) for (const x of g) norm += x * x;
    const scale = s.gradClipNorm ? Math.min(1, s.gradClipNorm / (Math.sqrt(norm) + 1e-6)) : 1;
    gs.forEach((g, k) => {
      for (let i = 0; i < g.length; i++) {
        let gi = g[i]! * scale;
        if (s.optimizer === 'sgd') {
          gi += wd * w[k]![i]!;
          let d = gi;
          if (s.momentum) {
            a[k]![i] = s.momentum * a[k]![i]! + gi;
            d = s.nesterov ? gi + s.momentum * a[k]![i]! : a[k]![i]!;
          }
          w[k]![i]! -= lr * d;
        } else {
          if (s.optimizer !== 'adamw') gi += wd * w[k]![i]!;
          else w[k]![i]! -= lr * wd * w[k]![i]!;
          a[k]![i] = b1 * a[k]![i]! + (1 - b1) * gi;
          b[k]![i] = b2 * b[k]![i]! + (1 - b2) * gi * gi;
          const mh = a[k]![i]! / (1 - b1 ** (t + 1));
          const vh = b[k]![i]! / (1 - b2 ** (t + 1));
          w[k]![i]! -= (lr * mh) / (Math.sqrt(vh) + eps);
        }
      }
    });
  });
  return w;
}

function worstDifference(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let worst = 0;
  a.forEach((x, k) => {
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - b[k]![i]!));
  });
  return worst;
}

beforeAll(async () => {
  await selectBackend({ prefer: 'cpu' });
});

describe('the optimizers against tfjs’ own, on the cpu backend', () => {
  it('sgd equals tf.train.sgd', () => {
    expect(worstDifference(ours({ optimizer: 'sgd' }), tfjs(tf.train.sgd(0.01)))).toBe(0);
  });
  it('sgd with momentum equals tf.train.momentum', () => {
    const got = ours({ optimizer: 'sgd', momentum: 0.9 });
    expect(worstDifference(got, tfjs(tf.train.momentum(0.01, 0.9)))).toBeLessThan(1e-7);
  });
  it('nesterov equals tf.train.momentum(useNesterov)', () => {
    const got = ours({ optimizer: 'sgd', momentum: 0.9, nesterov: true });
    expect(worstDifference(got, tfjs(tf.train.momentum(0.01, 0.9, true)))).toBeLessThan(1e-7);
  });
  it('adam equals tf.train.adam', () => {
    expect(worstDifference(ours({}), tfjs(tf.train.adam(0.01)))).toBeLessThan(1e-7);
  });
  it('a different setting gives different weights (the comparison can fail)', () => {
    expect(
      worstDifference(ours({ optimizer: 'sgd', momentum: 0.5 }), tfjs(tf.train.momentum(0.01, 0.9))),
    ).toBeGreaterThan(1e-4);
  });
});

describe('the optimizers against their formulas in float64', () => {
  const cases: Array<[string, Partial<OptimizerSettings>]> = [
    ['sgd', { optimizer: 'sgd' }],
    ['sgd + weight decay', { optimizer: 'sgd', weightDecay: 5e-4 }],
    ['momentum + weight decay', { optimizer: 'sgd', momentum: 0.9, weightDecay: 5e-4 }],
    ['nesterov + weight decay', { optimizer: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
    ['adam', { optimizer: 'adam' }],
    ['adam + L2', { optimizer: 'adam', weightDecay: 0.01 }],
    ['adamw', { optimizer: 'adamw', weightDecay: 0.01 }],
    ['adamw, other betas', { optimizer: 'adamw', weightDecay: 0.1, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 }],
    ['sgd + clipping', { optimizer: 'sgd', momentum: 0.9, gradClipNorm: 0.5 }],
    ['adam + clipping', { optimizer: 'adam', gradClipNorm: 0.5 }],
  ];
  it.each(cases)('%s', (_, s) => {
    const got = ours(s);
    const want = reference(s);
    expect(worstDifference(got, want)).toBeLessThan(2e-6);
    // And it moved: the weights are not where they started.
    expect(worstDifference(got, initial(1))).toBeGreaterThan(1e-3);
  });
  it('weight decay changes the result (the reference tells them apart)', () => {
    const plain = ours({ optimizer: 'adam' });
    expect(worstDifference(plain, reference({ optimizer: 'adamw', weightDecay: 0.1 }))).toBeGreaterThan(1e-5);
  });
});

describe('update kernels', () => {
  it('clipScale: ‖(3, 4)‖ = 5, clipped to 1 → 0.2; under the norm → 1; off → 1', () => {
    expect(clipScale([Float32Array.of(3), Float32Array.of(4)], 1)).toBeCloseTo(0.2, 6);
    expect(clipScale([Float32Array.of(3, 4)], 10)).toBe(1);
    expect(clipScale([Float32Array.of(3, 4)], 0)).toBe(1);
  });
  it('sgd by hand: w = 1, g = 0.5, λ = 0.1, μ = 0.9, lr 0.1 over two steps', () => {
    const w = Float32Array.of(1);
    const buf = new Float32Array(1);
    const out = new Float32Array(1);
    const p = { learningRate: 0.1, momentum: 0.9, nesterov: 0 as const, weightDecay: 0.1, gradScale: 1 };
    sgdUpdate(w, Float32Array.of(0.5), buf, out, p); // g' = 0.6, buf 0.6, w 0.94
    expect(out[0]).toBeCloseTo(0.94, 6);
    sgdUpdate(Float32Array.of(out[0]!), Float32Array.of(0.5), buf, out, p); // g' = 0.594, buf 1.134, w 0.8266
    expect(buf[0]).toBeCloseTo(1.134, 6);
    expect(out[0]).toBeCloseTo(0.8266, 6);
  });
  it('adamw by hand: the first step moves by lr (sign of g) plus lr·λ·w', () => {
    const out = new Float32Array(1);
    adamUpdate(Float32Array.of(2), Float32Array.of(-3), new Float32Array(1), new Float32Array(1), out, {
      learningRate: 0.01,
      beta1: 0.9,
      oneMinusBeta1: 0.1,
      beta2: 0.999,
      oneMinusBeta2: 0.001,
      epsilon: 1e-8,
      oneMinusBeta1Power: 0.1,
      oneMinusBeta2Power: 0.001,
      weightDecay: 0.5,
      decoupled: 1,
      gradScale: 1,
    });
    // 2 − 0.01·0.5·2 = 1.99; then + 0.01 (m̂/√v̂ = −1) → 2.0
    expect(out[0]).toBeCloseTo(2.0, 5);
  });
});
