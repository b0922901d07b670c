/**
 * Losses from logits, fused with their softmax: the loss value, the number of correct argmaxes and
 * ∂loss/∂logits written in one pass (float64 per row). The autograd path takes the log of clipped
 * probabilities (Keras); from logits the value differs only where a probability is below 1e-7.
 */
export interface LossResult {
  loss: number;
  hits: number;
}

export interface DistillTarget {
  /** The teacher's logits for the batch (n × classes). */
  teacher: Float32Array;
  temperature: number;
  alpha: number;
}

/**
 * Mean cross-entropy of softmax(z) against (1 − ε)·onehot(y) + ε/K, with Hinton's distillation term
 * α·T²·KL(softmax(t/T) ‖ softmax(z/T)) when `distill` is given (the hard term then weighs 1 − α).
 * `dz` gets the gradient of the mean.
 */
export function softmaxCrossEntropy(
  z: Float32Array,
  labels: Int32Array,
  n: number,
  classes: number,
  smoothing: number,
  dz: Float32Array | null,
  distill?: DistillTarget,
): LossResult {
  const p = new Float64Array(classes);
  const q = new Float64Array(classes);
  const hardWeight = distill ? 1 - distill.alpha : 1;
  let loss = 0;
  let hits = 0;
  for (let r = 0; r < n; r++) {
    const o = r * classes;
    const y = labels[r]!;
    let max = -Infinity;
    let best = 0;
    for (let c = 0; c < classes; c++)
      if (z[o + c]! > max) {
        max = z[o + c]!;
        best = c;
      }
    if (best === y) hits++;
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += p[c] = Math.exp(z[o + c]! - max);
    const lse = Math.log(sum) + max;
    let rowLoss = 0;
    for (let c = 0; c < classes; c++) {
      p[c]! /= sum;
      const t = (c === y ? 1 - smoothing : 0) + smoothing / classes;
      rowLoss += t * (lse - z[o + c]!);
      if (dz) dz[o + c] = (hardWeight * (p[c]! - t)) / n;
    }
    loss += hardWeight * rowLoss;
    if (distill) {
      const T = distill.temperature;
      const t = distill.teacher;
      // softmax(teacher/T) as q, softmax(z/T) as p (reused).
      let tMax = -Infinity,
        sMax = -Infinity;
      for (let c = 0; c < classes; c++) {
        tMax = Math.max(tMax, t[o + c]! / T);
        sMax = Math.max(sMax, z[o + c]! / T);
      }
      let tSum = 0,
        sSum = 0;
      for (let c = 0; c < classes; c++) {
        tSum += q[c] = Math.exp(t[o + c]! / T - tMax);
        sSum += p[c] = Math.exp(z[o + c]! / T - sMax);
      }
      const sLse = Math.log(sSum) + sMax;
      let kl = 0;
      for (let c = 0; c < classes; c++) {
        q[c]! /= tSum;
        p[c]! /= sSum;
        kl += q[c]! * (Math.log(q[c]! + 1e-12) - (z[o + c]! / T - sLse));
        // ∂(α·T²·KL)/∂z = α·T·(softmax(z/T) − softmax(t/T)).
        if (dz) dz[o + c]! += (distill.alpha * T * (p[c]! - q[c]!)) / n;
      }
      loss += distill.alpha * T * T * kl;
    }
  }
  return { loss: loss / n, hits };
}
