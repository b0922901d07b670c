/**
 * `dataset.normalize`: x' = (x · scale − mean[c]) / std[c] per channel c, the same affine map for
 * train and test. Statistics asked for (`per-channel`, `global`) come from the training split
 * only: a test set that shaped its own normalization would leak into every number measured on it.
 */
import { DatasetError } from '@squash/core';
import type { Split } from './dataset.js';

/** A mean or std: one value for every channel, one per channel, or computed from the training split. */
export type NormalizeValue = number | number[] | 'per-channel' | 'global';

/** `per-channel` / `global` are shorthand for `{ mean: …, std: … }` both computed so. */
export type NormalizeSpec = 'per-channel' | 'global' | { scale?: number; mean?: NormalizeValue; std?: NormalizeValue };

/** The normalization applied, per channel, after computing what was asked for. */
export interface Normalization {
  scale: number;
  mean: number[];
  std: number[];
}

/** The spec as ids hash it: shorthands expanded, defaults (scale 1, mean 0, std 1) left out; undefined when it does nothing. */
export function canonicalNormalize(
  spec: NormalizeSpec | undefined,
): { scale?: number; mean?: NormalizeValue; std?: NormalizeValue } | undefined {
  if (spec === undefined) return undefined;
  const s = typeof spec === 'string' ? { mean: spec, std: spec } : spec;
  // A list of one repeated value is that value for every channel (its length is checked against the data).
  const value = (v: NormalizeValue | undefined, dflt: number) => {
    const one = Array.isArray(v) && v.length > 0 && v.every((x) => x === v[0]) ? v[0] : v;
    return one === dflt ? undefined : one;
  };
  const out = Object.fromEntries(
    Object.entries({ scale: value(s.scale, 1), mean: value(s.mean, 0), std: value(s.std, 1) }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  return Object.keys(out).length ? out : undefined;
}

/** Channels are the last axis of an image ([h, w, c]); a flat vector or a [h, w] image has one. */
export function channelsOf(inputShape: readonly number[]): number {
  return inputShape.length >= 3 ? inputShape[inputShape.length - 1]! : 1;
}

/** Per-channel mean and population std (two passes in float64), of x · scale. */
function channelMoments(x: Float32Array, channels: number, scale: number) {
  const n = x.length / channels;
  const sum = new Float64Array(channels);
  for (let i = 0; i < x.length; i += channels) for (let c = 0; c < channels; c++) sum[c]! += x[i + c]!;
  const mean = Array.from(sum, (s) => s / n);
  const m2 = new Float64Array(channels);
  for (let i = 0; i < x.length; i += channels)
    for (let c = 0; c < channels; c++) {
      const d = x[i + c]! - mean[c]!;
      m2[c]! += d * d;
    }
  // Pooled over channels: Σ n·(var_c + (mean_c − μ)²) / N, the variance of all values at once.
  const all = mean.reduce((a, b) => a + b, 0) / channels;
  const pooled = Array.from(m2, (m, c) => m / n + (mean[c]! - all) ** 2).reduce((a, b) => a + b, 0) / channels;
  const abs = Math.abs(scale);
  return {
    perChannel: { mean: mean.map((m) => m * scale), std: Array.from(m2, (m) => Math.sqrt(m / n) * abs) },
    global: { mean: all * scale, std: Math.sqrt(pooled) * abs },
  };
}

/**
 * What `spec` means for data of `inputShape`, statistics computed from `train` (never another
 * split). A computed std of 0 (a constant channel) becomes 1: that channel is only centred.
 */
export function normalizationOf(train: Split, inputShape: readonly number[], spec: NormalizeSpec): Normalization {
  const s = typeof spec === 'string' ? { mean: spec, std: spec } : spec;
  const channels = channelsOf(inputShape);
  const scale = s.scale ?? 1;
  const computed =
    s.mean === 'per-channel' || s.mean === 'global' || s.std === 'per-channel' || s.std === 'global'
      ? channelMoments(train.x, channels, scale)
      : undefined;
  const resolve = (v: NormalizeValue | undefined, dflt: number, key: 'mean' | 'std'): number[] => {
    if (v === undefined) return new Array(channels).fill(dflt);
    if (v === 'per-channel') return computed!.perChannel[key].slice();
    if (v === 'global') return new Array(channels).fill(computed!.global[key]);
    if (typeof v === 'number') return new Array(channels).fill(v);
    if (v.length === 1) return new Array(channels).fill(v[0]);
    if (v.length !== channels) {
      const path = `dataset.normalize.${key}`;
      throw new DatasetError(
        `${path} has ${v.length} values but the data has ${channels} channel${channels === 1 ? '' : 's'} (input shape [${inputShape.join(', ')}])`,
        { location: { path }, hint: `give ${channels} values, or one for every channel` },
      );
    }
    return v.slice();
  };
  const mean = resolve(s.mean, 0, 'mean');
  const std = resolve(s.std, 1, 'std').map((d) => (d === 0 ? 1 : d));
  return { scale, mean, std };
}

/** x' = x · (scale / std[c]) − mean[c] / std[c], into `out` (which may be `x` itself). */
export function applyNormalization(
  x: Float32Array,
  inputShape: readonly number[],
  n: Normalization,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  const channels = channelsOf(inputShape);
  const a = Float64Array.from(n.std, (d) => n.scale / d);
  const b = Float64Array.from(n.std, (d, c) => -n.mean[c]! / d);
  if (channels === 1) {
    const a0 = a[0]!,
      b0 = b[0]!;
    for (let i = 0; i < x.length; i++) out[i] = x[i]! * a0 + b0;
    return out;
  }
  for (let i = 0; i < x.length; i += channels)
    for (let c = 0; c < channels; c++) out[i + c] = x[i + c]! * a[c]! + b[c]!;
  return out;
}

/**
 * Both splits normalized alike, the statistics from `train` alone. New arrays, unless `inPlace`
 * (for splits nobody else holds: decoding just made them).
 */
export function normalizeSplits(
  train: Split,
  test: Split,
  inputShape: readonly number[],
  spec: NormalizeSpec,
  opts: { inPlace?: boolean } = {},
): { train: Split; test: Split; normalization: Normalization } {
  const normalization = normalizationOf(train, inputShape, spec);
  const apply = (s: Split): Split => ({
    ...s,
    x: applyNormalization(s.x, inputShape, normalization, opts.inPlace ? s.x : undefined),
  });
  return { train: apply(train), test: apply(test), normalization };
}
