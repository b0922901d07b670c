/**
 * The loop every scheme shares: split the tensor into channels, let the scheme fit each channel
 * from that channel's kept weights, store the params, rebuild the codebook from them, encode.
 */
import type { QuantizedTensor, QuantScheme } from '../quantized_tensor.js';
import { bitsForLevels, codebookFromParams, layoutOf, levelValue, paramsPerChannel, type Layout } from './common.js';

export interface QuantizeOptions {
  bits: number;
  /** null: one codebook for the tensor; else the axis that indexes channels (−1: the last). */
  channelAxis: number | null;
  /** How many axes from `channelAxis` on index the channel, flattened (default 1). */
  channelSpan?: number;
  /** 1 = kept. Masked-out elements decode to exactly 0 and are left out of every statistic. */
  mask?: Uint8Array;
}

/**
 * Writes the symbols of values[start], values[start + stride], … (`count` of them) into `codes`.
 * One loop per scheme rather than one call per weight: a per-weight callback is a megamorphic
 * call site once several schemes have run, and made quantization ~3× slower.
 */
export type EncodeRun = (
  values: Float32Array,
  codes: Uint16Array,
  start: number,
  count: number,
  stride: number,
) => void;

/** A scheme's decision for one channel. */
export interface ChannelFit {
  /** What the artifact stores for this channel (see QuantizedTensor.params). */
  params: ArrayLike<number>;
  /** The symbol that decodes to exactly 0, or −1. Must be >= 0 when a mask is given. */
  zeroCode: number;
  /** Encodes this channel's weights (masked ones too; the driver overwrites those after). */
  encode: EncodeRun;
}

/**
 * Beyond this, a codebook could overflow float32: an asymmetric range of width 2·2^126 over one
 * step, or a power-of-two grid's top level qmax · 2^e. No trained weight comes near it (≈ 8.5e37).
 */
export const MAX_ABS_WEIGHT = 2 ** 126;

/**
 * Kept values grouped by channel, each group in index order: channel c's are
 * values[offsets[c] .. offsets[c + 1]). Rejects non-finite weights anywhere (one NaN would make a
 * scale or centroid meaningless, and a masked NaN is a bug upstream worth hearing about).
 */
function groupKept(
  values: Float32Array,
  l: Layout,
  mask: Uint8Array | undefined,
  fn: string,
): { values: Float32Array; offsets: Int32Array } {
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(values[i]);
    if (!(a <= MAX_ABS_WEIGHT)) {
      throw new RangeError(
        `${fn}: ${a === a && a !== Infinity ? `weight outside ±2^126` : 'non-finite weight'} ${values[i]} at index ${i}`,
      );
    }
  }
  const offsets = new Int32Array(l.channels + 1);
  if (l.channels === 1 && !mask) {
    offsets[1] = n;
    return { values, offsets };
  }
  const counts = new Int32Array(l.channels);
  let i = 0;
  for (let o = 0; o < l.outer; o++) {
    for (let c = 0; c < l.channels; c++) {
      if (!mask) counts[c] += l.inner;
      else for (let j = 0; j < l.inner; j++) counts[c] += mask[i + j] ? 1 : 0;
      i += l.inner;
    }
  }
  for (let c = 0; c < l.channels; c++) offsets[c + 1] = offsets[c] + counts[c];
  const grouped = new Float32Array(offsets[l.channels]);
  const at = offsets.slice(0, l.channels);
  i = 0;
  for (let o = 0; o < l.outer; o++) {
    for (let c = 0; c < l.channels; c++) {
      let w = at[c];
      for (let j = 0; j < l.inner; j++, i++) if (!mask || mask[i]) grouped[w++] = values[i];
      at[c] = w;
    }
  }
  return { values: grouped, offsets };
}

/** Smallest and largest of `a`; 0 and 0 for an empty channel. */
export function minMax(a: Float32Array): { min: number; max: number } {
  if (a.length === 0) return { min: 0, max: 0 };
  let min = a[0];
  let max = a[0];
  for (let i = 1; i < a.length; i++) {
    const v = a[i];
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  return { min, max };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The neighbouring float32 of a positive float32 (`dir` −1: below, +1: above). */
function step32(x: number, dir: 1 | -1): number {
  f32[0] = x;
  u32[0] += dir;
  return f32[0];
}

/** The largest float32 <= x, for x >= 0. */
function roundDown32(x: number): number {
  const f = Math.fround(x);
  return f > x ? step32(f, -1) : f;
}

/**
 * The params of a uniform grid (symmetric, asymmetric) with a float32 scale, chosen so that
 * (1) the grid's end codes are used, so |w − q| ≤ scale/2 over the whole range, and
 * (2) quantizing the output again reproduces the params bit for bit.
 *
 * `rawScale(min, max)` is the real-valued scale (e.g. max|w| / qmax); `paramsFor(scale, min, max)`
 * completes the params for a float32 scale (e.g. the zero point). A quantized channel's extremes
 * are codebook[encode(min)] and codebook[encode(max)] (the grid is monotone), so everything below
 * looks only at min and max and costs O(1) per channel.
 *
 * Rounding the scale to nearest breaks both properties. (1): with a scale rounded up, a range
 * whose zero point sits at ~x.5 has both ends round inwards, the top code goes unused and the
 * error reaches a whole step. (2): the output's extremes fround(k · s) re-derive a scale an ulp
 * off about half of the time. So:
 *  - The scale is rounded down: the grid is then never wider than the range, and its end codes
 *    are used (round(x) + round(qmax − x) ≥ qmax).
 *  - Several float32 scales c (a "plateau", at most a few ulps wide) give the same extremes; we
 *    always return the largest, and a range whose extremes some nearby c reproduces exactly
 *    (our own output) is recognised and given that plateau's top: the same params.
 *  - If the plateau's top no longer uses the end codes of the original range, we step the scale
 *    down an ulp and try again (rare; each ulp narrows the grid by qmax ulps, far below a step).
 */
export function fitScale(
  scheme: QuantScheme,
  levels: number,
  min: number,
  max: number,
  rawScale: (min: number, max: number) => number,
  paramsFor: (scale: number, min: number, max: number) => number[],
  encode: (p: number[], v: number) => number,
): number[] {
  /** Params for scale c on [lo, hi], and the extremes of the output. */
  const out = (c: number, lo: number, hi: number): [number[], number, number] => {
    const p = paramsFor(c, lo, hi);
    return [p, levelValue(scheme, levels, p, 0, encode(p, lo)), levelValue(scheme, levels, p, 0, encode(p, hi))];
  };
  const reproduces = (c: number, lo: number, hi: number) => {
    const [, a, b] = out(c, lo, hi);
    return a === lo && b === hi;
  };
  const plateauTop = (c: number, lo: number, hi: number) => {
    for (let up = step32(c, 1); reproduces(up, lo, hi); up = step32(up, 1)) c = up;
    return c;
  };
  const c0 = roundDown32(rawScale(min, max));
  if (c0 === 0) return paramsFor(0, min, max);
  // Our own output: its scale is within two ulps above the rounded-down one.
  let c = c0;
  for (let t = 0; t < 2 && c > 0; t++) c = step32(c, -1);
  for (let t = 0; t < 5; t++, c = step32(c, 1)) {
    if (c > 0 && reproduces(c, min, max)) return paramsFor(plateauTop(c, min, max), min, max);
  }
  // A fresh range.
  c = c0;
  for (let t = 0; t < 64 && c > 0; t++, c = step32(c, -1)) {
    const [p, lo, hi] = out(c, min, max);
    const top = plateauTop(c, lo, hi);
    const [q, a, b] = out(top, min, max);
    if (a === lo && b === hi && q.every((x, j) => j === 0 || x === p[j])) return q;
  }
  return paramsFor(c0, min, max);
}

/**
 * Quantizes `values` channel by channel with `fit`. Masked-out elements get the channel's zero
 * symbol. The codebook is rebuilt from the stored params by `codebookFromParams`, never taken from
 * the scheme, so it is by construction what a reader of the artifact will rebuild.
 */
export function quantizeChannels(
  scheme: QuantScheme,
  values: Float32Array,
  shape: number[],
  opts: QuantizeOptions,
  levels: number,
  fit: (kept: Float32Array) => ChannelFit,
): QuantizedTensor {
  const n = values.length;
  const l = layoutOf(shape, opts.channelAxis, n, scheme, opts.channelSpan);
  const mask = opts.mask;
  if (mask && mask.length !== n)
    throw new RangeError(`${scheme}: mask has ${mask.length} elements but values has ${n}`);
  const kept = groupKept(values, l, mask, scheme);
  const per = paramsPerChannel(scheme, levels);
  const params = new Float32Array(l.channels * per);
  const zeroCodes = new Int32Array(l.channels);
  const encoders: EncodeRun[] = [];
  for (let c = 0; c < l.channels; c++) {
    const f = fit(kept.values.subarray(kept.offsets[c], kept.offsets[c + 1]));
    if (f.params.length !== per)
      throw new Error(`${scheme}: internal error: ${f.params.length} params for channel ${c}, expected ${per}`);
    if (mask && f.zeroCode < 0) throw new Error(`${scheme}: internal error: masked channel ${c} has no zero symbol`);
    params.set(f.params, c * per);
    zeroCodes[c] = f.zeroCode;
    encoders.push(f.encode);
  }
  const bits = bitsForLevels(levels);
  const codebook = codebookFromParams(scheme, bits, levels, params, l.channels);
  const codes = new Uint16Array(n);
  const { outer, channels, inner } = l;
  if (inner === 1) {
    for (let c = 0; c < channels; c++) encoders[c](values, codes, c, outer, channels);
  } else {
    for (let o = 0; o < outer; o++)
      for (let c = 0; c < channels; c++) encoders[c](values, codes, (o * channels + c) * inner, inner, 1);
  }
  if (mask) {
    let i = 0;
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++) {
        const z = zeroCodes[c];
        for (let j = 0; j < inner; j++, i++) if (!mask[i]) codes[i] = z;
      }
    }
  }
  const span = l.span > 1 ? { channelSpan: l.span } : {};
  return { scheme, bits, shape: [...shape], channelAxis: l.axis, ...span, levels, codebook, codes, params, zeroCodes };
}
