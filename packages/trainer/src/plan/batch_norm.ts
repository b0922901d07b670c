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
  return {
    name,
    out,
    forward(n, ctx) {
      const xs = valuesOf(x, n),
        ys = valuesOf(out, n);
      rows = xs.length / C;
      trained = ctx.training;
      const dims = { rows, channels: C, epsilon: p.epsilon, training: ctx.training };
      const [m, v] = ctx.training ? [mean, variance] : [p.movingMean.value, p.movingVariance.value];
      ctx.addon.batchNormForward(
        xs,
        p.gamma?.value ?? null,
        p.beta?.value ?? null,
        ys,
        xhat.subarray(0, xs.length),
        m,
        v,
        dims,
      );
      if (!ctx.training) for (let c = 0; c < C; c++) inv[c] = 1 / Math.sqrt(p.movingVariance.value[c]! + p.epsilon);
    },
    backward(n, { addon, scratch }) {
      const d = gradOf(out, n);
      if (trained) {
        const dims = { rows, channels: C, epsilon: p.epsilon };
        const g = p.gamma?.value ?? null;
        const xh = xhat.subarray(0, d.length);
        addon.batchNormBackward(d, xh, g, variance, null, p.gamma?.grad ?? null, p.beta?.grad ?? null, dims);
        emitGrad(x, n, scratch, (dx) => addon.batchNormBackward(d, xh, g, variance, dx, null, null, dims));
        return;
      }
      // Frozen statistics (inference semantics; not how training runs today, kept correct).
      const dBeta = new Float64Array(C);
      const dGamma = new Float64Array(C);
      for (let i = 0; i < d.length; i += C)
        for (let c = 0; c < C; c++) {
          dBeta[c]! += d[i + c]!;
          dGamma[c]! += d[i + c]! * xhat[i + c]!;
        }
      if (p.gamma?.grad) for (let c = 0; c < C; c++) p.gamma.grad[c] = dGamma[c]!;
      if (p.beta?.grad) for (let c = 0; c < C; c++) p.beta.grad[c] = dBeta[c]!;
      emitGrad(x, n, scratch, (dx) => {
        for (let i = 0; i < d.length; i += C) for (let c = 0; c < C; c++) dx[i + c] = d[i + c]! * gammaAt(c) * inv[c]!;
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
