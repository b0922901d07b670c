import type { AdamParams, SgdParams } from '@squash/backend';

/**
 * The optimizer updates as plain loops over float32 arrays: the path for backends without the
 * native kernels, and the reference the native kernels are tested against. Every operation is
 * rounded to float32 (Math.fround) in the order tfjs' own optimizers apply their ops, so on the cpu
 * backend plain Adam and SGD give tfjs' numbers. Parameter objects match the native kernels'.
 */

/** One step's constants: the native kernels' own parameter types (one declaration, addon.ts). */
export type SgdStep = SgdParams;
export type AdamStep = Required<AdamParams>;

const fr = Math.fround;

/**
 * g' = s·g + λ·w; with momentum μ: buf = μ·buf + g', d = nesterov ? g' + μ·buf : buf;
 * w ← w − lr·d. (buf starts at 0, so its first value is g', as PyTorch initializes it.)
 */
export function sgdUpdate(w: Float32Array, g: Float32Array, buf: Float32Array, out: Float32Array, p: SgdStep): void {
  const lr = fr(p.learningRate),
    mu = fr(p.momentum),
    wd = fr(p.weightDecay),
    s = fr(p.gradScale);
  for (let i = 0; i < w.length; i++) {
    let gi = s === 1 ? g[i]! : fr(g[i]! * s);
    if (wd !== 0) gi = fr(gi + fr(wd * w[i]!));
    let d = gi;
    if (mu !== 0) {
      const b = fr(fr(mu * buf[i]!) + gi);
      buf[i] = b;
      d = p.nesterov ? fr(gi + fr(b * mu)) : b;
    }
    out[i] = fr(w[i]! - fr(lr * d));
  }
}

/**
 * g' = s·g (+ λ·w unless decoupled); m = β1·m + (1−β1)·g'; v = β2·v + (1−β2)·g'²;
 * w0 = decoupled ? w·(1 − lr·λ) : w; w ← w0 − lr · (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε).
 */
export function adamUpdate(
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  out: Float32Array,
  p: AdamStep,
): void {
  const lr = fr(p.learningRate),
    b1 = fr(p.beta1),
    omb1 = fr(p.oneMinusBeta1),
    b2 = fr(p.beta2),
    omb2 = fr(p.oneMinusBeta2),
    eps = fr(p.epsilon),
    c1 = fr(p.oneMinusBeta1Power),
    c2 = fr(p.oneMinusBeta2Power),
    wd = fr(p.weightDecay),
    s = fr(p.gradScale),
    // PyTorch's AdamW: w·(1 − lr·λ), the factor formed in double once.
    keep = fr(1 - p.learningRate * p.weightDecay);
  for (let i = 0; i < w.length; i++) {
    let gi = s === 1 ? g[i]! : fr(g[i]! * s);
    if (wd !== 0 && !p.decoupled) gi = fr(gi + fr(wd * w[i]!));
    const mi = fr(fr(m[i]! * b1) + fr(gi * omb1));
    const vi = fr(fr(v[i]! * b2) + fr(fr(gi * gi) * omb2));
    m[i] = mi;
    v[i] = vi;
    const w0 = wd !== 0 && p.decoupled ? fr(w[i]! * keep) : w[i]!;
    const step = fr(fr(mi / c1) / fr(fr(Math.sqrt(fr(vi / c2))) + eps));
    out[i] = fr(fr(step * -lr) + w0);
  }
}

/** PyTorch's clip_grad_norm_: the factor min(1, maxNorm / (‖g‖₂ + 1e-6)) over all gradients together. */
export function clipScale(grads: Float32Array[], maxNorm: number): number {
  if (!(maxNorm > 0)) return 1;
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  const norm = Math.sqrt(sum);
  return Math.min(1, maxNorm / (norm + 1e-6));
}
