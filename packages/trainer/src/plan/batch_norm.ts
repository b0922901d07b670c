import type { Param, PlanNode } from './node.js';
import { emitGrad, gradOf, valuesOf, type Slot } from './slots.js';

export interface BatchNormParams {
  gamma: Param | null;
  beta: Param | null;
  movingMean: Param;
  movingVariance: Param;
  epsilon: number;
  momentum: number;
}

const fr = Math.fround;

/**
 * BatchNormalization over the last axis. Training: the batch's mean and biased variance (float64
 * sums, as the autograd path's op), the standard backward pass, and after the optimizer step the
 * moving averages moved as tfjs-layers moves them, in float32. Inference: the moving statistics.
 */
export function batchNormNode(name: string, x: Slot, out: Slot, p: BatchNormParams): PlanNode {
  const C = x.shape[x.shape.length - 1]!;
  const maxBatch = x.y.length / x.size;
  const xhat = new Float32Array(maxBatch * x.size);
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  const inv = new Float64Array(C);
  let rows = 0;
  let trained = false;
  const gammaAt = (c: number) => (p.gamma ? p.gamma.value[c]! : 1);
  const betaAt = (c: number) => (p.beta ? p.beta.value[c]! : 0);
  return {
    name,
    out,
    forward(n, ctx) {
      const xs = valuesOf(x, n),
        ys = valuesOf(out, n);
      rows = xs.length / C;
      trained = ctx.training;
      if (!ctx.training) {
        // tfjs' batchNorm: (x − mean) · γ / √(var + ε) + β.
        for (let c = 0; c < C; c++) inv[c] = 1 / Math.sqrt(p.movingVariance.value[c]! + p.epsilon);
        const mm = p.movingMean.value;
        for (let i = 0; i < xs.length; i += C)
          for (let c = 0; c < C; c++) ys[i + c] = (xs[i + c]! - mm[c]!) * inv[c]! * gammaAt(c) + betaAt(c);
        return;
      }
      const sum = new Float64Array(C);
      for (let i = 0; i < xs.length; i += C) for (let c = 0; c < C; c++) sum[c]! += xs[i + c]!;
      for (let c = 0; c < C; c++) mean[c] = sum[c]! / rows;
      const sq = new Float64Array(C);
      for (let i = 0; i < xs.length; i += C)
        for (let c = 0; c < C; c++) {
          const d = xs[i + c]! - mean[c]!;
          sq[c]! += d * d;
        }
      for (let c = 0; c < C; c++) {
        variance[c] = sq[c]! / rows;
        inv[c] = 1 / Math.sqrt(variance[c]! + p.epsilon);
      }
      for (let i = 0; i < xs.length; i += C)
        for (let c = 0; c < C; c++) {
          const h = (xs[i + c]! - mean[c]!) * inv[c]!;
          xhat[i + c] = h;
          ys[i + c] = h * gammaAt(c) + betaAt(c);
        }
    },
    backward(n, { scratch }) {
      const d = gradOf(out, n);
      const dBeta = new Float64Array(C);
      const dGamma = new Float64Array(C);
      if (trained) {
        for (let i = 0; i < d.length; i += C)
          for (let c = 0; c < C; c++) {
            dBeta[c]! += d[i + c]!;
            dGamma[c]! += d[i + c]! * xhat[i + c]!;
          }
      } else {
        // Frozen statistics (not used by training today, kept correct): x̂ from the moving ones.
        const xs = valuesOf(x, n);
        for (let i = 0; i < d.length; i += C)
          for (let c = 0; c < C; c++) {
            dBeta[c]! += d[i + c]!;
            dGamma[c]! += d[i + c]! * (xs[i + c]! - p.movingMean.value[c]!) * inv[c]!;
          }
      }
      if (p.gamma?.grad) for (let c = 0; c < C; c++) p.gamma.grad[c] = dGamma[c]!;
      if (p.beta?.grad) for (let c = 0; c < C; c++) p.beta.grad[c] = dBeta[c]!;
      emitGrad(x, n, scratch, (dx) => {
        if (!trained) {
          for (let i = 0; i < d.length; i += C)
            for (let c = 0; c < C; c++) dx[i + c] = d[i + c]! * gammaAt(c) * inv[c]!;
          return;
        }
        // dx = γ/(σ·R) · (R·dy − Σdy − x̂·Σ(dy·x̂)), per channel.
        const k = Float64Array.from(inv, (s, c) => (gammaAt(c) * s) / rows);
        for (let i = 0; i < d.length; i += C)
          for (let c = 0; c < C; c++) dx[i + c] = k[c]! * (rows * d[i + c]! - dBeta[c]! - xhat[i + c]! * dGamma[c]!);
      });
    },
    afterStep() {
      if (!trained) return;
      const keep = fr(1 - p.momentum);
      for (const [moving, batch] of [
        [p.movingMean.value, mean],
        [p.movingVariance.value, variance],
      ] as const)
        for (let c = 0; c < C; c++) moving[c] = fr(moving[c]! - fr(fr(moving[c]! - batch[c]!) * keep));
    },
  };
}
