/**
 * The quantization schemes a `quantized` section may name, and how a codebook stored as `params`
 * (a few numbers per channel) expands to the full codebook (channels × levels).
 *
 * The formulas follow the contract of @squash/compressors' quantized_tensor.ts: symmetric and pow2
 * (k − qmax)·scale with qmax = (levels − 1)/2, asymmetric (k − zeroPoint)·scale, binary (2k − 1)·α,
 * or (k − 1)·α when a mask gives it a zero symbol (levels 3), ternary (k − 1)·α — each computed in
 * float64, rounded once to float32, −0 made +0. The writer stores `params` only after checking that
 * this function reproduces the tensor's codebook bit for bit, so decoding is exact whatever a
 * quantizer did.
 */
export type QuantScheme = 'symmetric' | 'asymmetric' | 'pow2' | 'kmeans' | 'binary' | 'ternary';

export const QUANT_SCHEMES: readonly QuantScheme[] = ['symmetric', 'asymmetric', 'pow2', 'kmeans', 'binary', 'ternary'];

export type CodebookStorage = 'params' | 'full';

/** The schemes whose codebook may be stored as params, and how many floats per channel. */
const PARAMS_PER_CHANNEL: Partial<Record<QuantScheme, number>> = {
  symmetric: 1,
  pow2: 1,
  asymmetric: 2,
  binary: 1,
  ternary: 1,
};
export const PARAMS_SCHEMES = Object.keys(PARAMS_PER_CHANNEL) as QuantScheme[];

export function floatsPerChannel(storage: CodebookStorage, scheme: QuantScheme, levels: number): number {
  return storage === 'full' ? levels : (PARAMS_PER_CHANNEL[scheme] ?? Number.NaN);
}

/** Multiplier of the channel's first param for symbol k (before rounding). */
function level(scheme: QuantScheme, levels: number, p: Float32Array, off: number, k: number): number {
  switch (scheme) {
    case 'asymmetric':
      return (k - p[off + 1]) * p[off];
    case 'binary':
      return (levels === 2 ? 2 * k - 1 : k - 1) * p[off];
    case 'ternary':
      return (k - 1) * p[off];
    default:
      return (k - (levels - 1) / 2) * p[off];
  }
}

/** The codebook (channels × levels) defined by `params`, or null if the scheme is not derivable. */
export function deriveCodebook(
  scheme: QuantScheme,
  levels: number,
  params: Float32Array,
  channels: number,
): Float32Array | null {
  const per = PARAMS_PER_CHANNEL[scheme];
  if (per === undefined || params.length !== per * channels) return null;
  const out = new Float32Array(channels * levels);
  for (let c = 0; c < channels; c++) {
    for (let k = 0; k < levels; k++) out[c * levels + k] = Math.fround(level(scheme, levels, params, c * per, k)) + 0;
  }
  return out;
}
