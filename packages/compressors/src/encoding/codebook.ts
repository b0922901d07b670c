/**
 * How an artifact stores a quantized tensor's codebook: as the scheme's few parameters per channel
 * when the codebook is exactly derivable from them, else as the full codebook.
 *
 * The formulas follow the contract in quantized_tensor.ts (and quant/common.ts's
 * `codebookFromParams`, which we deliberately do not import, so the file format does not move when
 * a quantizer does): symmetric and pow2 (k − qmax)·scale with qmax = (levels − 1)/2, asymmetric
 * (k − zeroPoint)·scale, binary (2k − 1)·α, or (k − 1)·α when a mask gives it a zero symbol
 * (levels 3), ternary (k − 1)·α — each computed in float64, rounded once to float32, −0 made +0.
 *
 * We never trust that a tensor was built exactly that way: the writer derives the codebook from
 * `params` and compares it bit for bit with `q.codebook`, and stores `params` only if every entry
 * matches; otherwise — and always for kmeans, whose params are the codebook — it stores the full
 * codebook (levels × float32 per channel). Decoding is thus bit-exact whatever a scheme did; the
 * price of a mismatch is a few bytes per channel.
 */
import type { QuantScheme, QuantizedTensor } from '../quantized_tensor.js';

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

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** What to store for `q`'s codebook: its params if they reproduce it bit-exactly, else the codebook. */
export function codebookToStore(
  q: QuantizedTensor,
  channels: number,
): { storage: CodebookStorage; floats: Float32Array } {
  const derived = deriveCodebook(q.scheme, q.levels, q.params, channels);
  if (derived !== null && sameBits(derived, q.codebook)) return { storage: 'params', floats: q.params };
  return { storage: 'full', floats: q.codebook };
}
