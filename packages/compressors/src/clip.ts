import type { WeightStats } from './compressor.js';
import { createWeightCompressor, totalWeights, withValues } from './weight_compressor.js';

/**
 * Magnitude clipping: every weight with |w| > T is replaced.
 *
 * By default a clipped weight saturates to sign(w)·T, which keeps its sign and stays the largest
 * weight of the tensor — the article's intent. Passing `value` reproduces its literal wording
 * ("set to a specific value"): every clipped weight becomes exactly `value`, whatever its sign.
 *
 * T is compared in float32 (`Math.fround`), the precision a saturated weight can actually hold;
 * otherwise a weight equal to fround(T) > T would count as "changed" while keeping its value.
 * NaN weights are left as they are (they are not larger than T); ±Infinity is clipped.
 */
export function clipImpl(
  values: Float32Array,
  threshold: number,
  value?: number,
): { values: Float32Array; changed: number } {
  if (!Number.isFinite(threshold) || threshold <= 0) {
    throw new RangeError(`clip: threshold must be a finite number > 0, got ${threshold}`);
  }
  if (value !== undefined && !Number.isFinite(value)) {
    throw new RangeError(`clip: value must be a finite number, got ${value}`);
  }
  const t = Math.fround(threshold);
  const hi = value ?? t;
  const lo = value ?? -t;
  const n = values.length;
  const out = new Float32Array(n);
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const w = values[i];
    if (w > t) {
      out[i] = hi;
      changed++;
    } else if (w < -t) {
      out[i] = lo;
      changed++;
    } else {
      out[i] = w;
    }
  }
  return { values: out, changed };
}

export const clipWeightsConfig = createWeightCompressor({
  name: 'clip-weights',
  description: 'Replaces every weight with |w| > threshold: saturates to ±threshold, or sets it to `value` if given.',
  params: {
    threshold: {
      type: 'number',
      exclusiveMinimum: 0,
      required: true,
      description: 'magnitude above which a weight is clipped',
    },
    value: { type: 'number', description: 'what a clipped weight becomes (default: sign(w)·threshold)' },
  },
  run(tensors, p) {
    const total = totalWeights(tensors);
    const stats: WeightStats = { weightsChanged: 0, weightsKept: total, weightsTotal: total };
    const out = tensors.map((t) => {
      const r = clipImpl(t.values, p.threshold as number, p.value as number | undefined);
      stats.weightsChanged += r.changed;
      return withValues(t, r.values);
    });
    return { tensors: out, stats };
  },
});
