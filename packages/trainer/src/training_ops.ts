import * as tf from '@tensorflow/tfjs';
import { createRng } from '@squash/core';

// Training semantics of the layers whose training differs from inference (batch norm, dropout),
// and ops written with their own gradients where tfjs' cpu backend (and so native) is slow.

/** What batch norm in training reads of its layer. */
export interface BatchNormLayer {
  name: string;
  w: Record<string, tf.Variable>;
  config: Record<string, unknown>;
}

/**
 * One training step's forward pass. Dropout's mask is a function of (seed, step, layer name), so a
 * run replays exactly and each step drops differently.
 */
export interface TrainingPass {
  seed: number;
  step: number;
  /**
   * Where the pass leaves each batch-norm layer's batch moments. The moving averages move after the
   * optimizer step and outside the gradient (tfjs-layers moves them inside `call`), so the caller
   * applies these with `updateMovingStats` once the step is done; omitted, they are not kept.
   */
  moments?: BatchMoments[];
}

/** A batch-norm layer's moments over one batch (kept tensors) and the moving averages they move. */
export interface BatchMoments {
  layer: string;
  mean: tf.Tensor;
  variance: tf.Tensor;
  movingMean: tf.Variable;
  movingVariance: tf.Variable;
  momentum: number;
}

/**
 * Moves each moving mean and variance toward its batch moments as tfjs-layers' BatchNormalization
 * does (moving ← moving − (moving − batch)·(1 − momentum)), then disposes the moments.
 */
export function updateMovingStats(moments: BatchMoments[]): void {
  tf.tidy(() => {
    for (const m of moments) {
      for (const [moving, batch] of [
        [m.movingMean, m.mean],
        [m.movingVariance, m.variance],
      ] as const) {
        moving.assign(tf.sub(moving, tf.mul(tf.sub(moving, batch), 1 - m.momentum)));
      }
    }
  });
  tf.dispose(moments.flatMap((m) => [m.mean, m.variance]));
}

/** A 32-bit seed for one layer's dropout mask at one step (FNV-1a over seed, step and name). */
function maskSeed(seed: number, step: number, layer: string): number {
  let h = 2166136261;
  const mix = (v: number) => (h = Math.imul(h ^ (v & 0xffffffff), 16777619));
  mix(seed);
  mix(Math.floor(seed / 2 ** 32));
  mix(step);
  for (let i = 0; i < layer.length; i++) mix(layer.charCodeAt(i));
  return h | 0;
}

/**
 * Inverted dropout as tfjs computes it (x · floor(u + keep) / keep, u uniform in [0, 1)): kept
 * values scaled by 1/(1 − rate), dropped ones 0. The uniforms come from squash's seeded generator,
 * not tfjs' global one, so the mask is the same on every backend and in every process.
 */
export function dropout(h: tf.Tensor, rate: number, pass: TrainingPass, layer: string): tf.Tensor {
  return tf.mul(h, tf.tensor(dropoutMask(rate, pass, layer, h.size), h.shape));
}

/** Dropout's multipliers for one layer at one step: 1/(1 − rate) where kept, 0 where dropped. */
export function dropoutMask(
  rate: number,
  pass: Pick<TrainingPass, 'seed' | 'step'>,
  layer: string,
  size: number,
  into = new Float32Array(size),
): Float32Array {
  const rng = createRng(maskSeed(pass.seed, pass.step, layer));
  const scale = Math.fround(1 / Math.fround(1 - rate));
  for (let i = 0; i < size; i++) into[i] = rng.next() >= rate ? scale : 0;
  return into;
}

/** Typed `tf.customGrad` for three inputs (its published type mixes the inputs with `save`). */
type Grad3 = (
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor[] };
const customGrad3 = (f: Grad3) =>
  tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
    x: tf.Tensor,
    gamma: tf.Tensor,
    beta: tf.Tensor,
  ) => tf.Tensor;

/**
 * Batch normalization in training, as tfjs-layers' normalizeBatchInTraining: the batch's mean and
 * (biased) variance over every axis but the channels, gradients flowing through both. Written as
 * one op with its own gradient (the standard batch-norm backward pass) over the [values, channels]
 * view in plain loops: composed of tfjs ops, its broadcasts took tfjs' cpu backend (and so native)
 * ~90 % of a residual CNN's training step.
 */
export function batchNormTraining(h: tf.Tensor, v: BatchNormLayer, pass: TrainingPass): tf.Tensor {
  const { moving_mean: movingMean, moving_variance: movingVariance } = v.w;
  const channels = h.shape[h.rank - 1]!;
  const epsilon = v.config.epsilon as number;
  let mean = new Float32Array(0);
  let variance = new Float32Array(0);
  const op = customGrad3((x, gamma, beta) => {
    const xs = x.dataSync() as Float32Array;
    const g = gamma.dataSync() as Float32Array;
    const b = beta.dataSync() as Float32Array;
    const rows = xs.length / channels;
    const sum = new Float64Array(channels);
    for (let i = 0; i < xs.length; i += channels) for (let c = 0; c < channels; c++) sum[c]! += xs[i + c]!;
    mean = Float32Array.from(sum, (s) => s / rows);
    const sq = new Float64Array(channels);
    for (let i = 0; i < xs.length; i += channels)
      for (let c = 0; c < channels; c++) {
        const d = xs[i + c]! - mean[c]!;
        sq[c]! += d * d;
      }
    variance = Float32Array.from(sq, (s) => s / rows);
    const inv = Float64Array.from(variance, (s) => 1 / Math.sqrt(s + epsilon));
    const xhat = new Float32Array(xs.length);
    const y = new Float32Array(xs.length);
    for (let i = 0; i < xs.length; i += channels)
      for (let c = 0; c < channels; c++) {
        const n = (xs[i + c]! - mean[c]!) * inv[c]!;
        xhat[i + c] = n;
        y[i + c] = n * g[c]! + b[c]!;
      }
    return {
      value: tf.tensor(y, x.shape),
      gradFunc: (dy) => {
        const d = dy.dataSync() as Float32Array;
        const dBeta = new Float64Array(channels);
        const dGamma = new Float64Array(channels);
        for (let i = 0; i < d.length; i += channels)
          for (let c = 0; c < channels; c++) {
            dBeta[c]! += d[i + c]!;
            dGamma[c]! += d[i + c]! * xhat[i + c]!;
          }
        // dx = γ/(σ·R) · (R·dy − Σdy − x̂·Σ(dy·x̂)), per channel.
        const dx = new Float32Array(d.length);
        const k = Float64Array.from(inv, (s, c) => (g[c]! * s) / rows);
        for (let i = 0; i < d.length; i += channels)
          for (let c = 0; c < channels; c++)
            dx[i + c] = k[c]! * (rows * d[i + c]! - dBeta[c]! - xhat[i + c]! * dGamma[c]!);
        return [
          tf.tensor(dx, x.shape),
          tf.tensor(Float32Array.from(dGamma), [channels]),
          tf.tensor(Float32Array.from(dBeta), [channels]),
        ];
      },
    };
  });
  const out = op(h, v.w.gamma ?? tf.ones([channels]), v.w.beta ?? tf.zeros([channels]));
  pass.moments?.push({
    layer: v.name,
    mean: tf.keep(tf.tensor1d(mean)),
    variance: tf.keep(tf.tensor1d(variance)),
    movingMean: movingMean!,
    movingVariance: movingVariance!,
    momentum: v.config.momentum as number,
  });
  return out;
}

/**
 * The mean over each sample's positions per channel, with its gradient (dy / positions to every
 * position), in plain loops: tfjs' cpu backend (native) spends most of a small CNN's step in
 * mean's gradient or avgPool's.
 */
export function globalAveragePool(h: tf.Tensor): tf.Tensor {
  const [n, height, width, channels] = h.shape as [number, number, number, number];
  const positions = height * width;
  const op = tf.customGrad(((x: tf.Tensor) => {
    const xs = x.dataSync() as Float32Array;
    const out = new Float32Array(n * channels);
    for (let s = 0; s < n; s++) {
      const sums = new Float64Array(channels);
      const base = s * positions * channels;
      for (let p = 0; p < positions; p++) for (let c = 0; c < channels; c++) sums[c]! += xs[base + p * channels + c]!;
      for (let c = 0; c < channels; c++) out[s * channels + c] = sums[c]! / positions;
    }
    return {
      value: tf.tensor(out, [n, channels]),
      gradFunc: (dy: tf.Tensor) => {
        const d = dy.dataSync() as Float32Array;
        const dx = new Float32Array(xs.length);
        for (let s = 0; s < n; s++)
          for (let p = 0; p < positions; p++)
            for (let c = 0; c < channels; c++)
              dx[(s * positions + p) * channels + c] = d[s * channels + c]! / positions;
        return [tf.tensor(dx, x.shape)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
  return op(h);
}
