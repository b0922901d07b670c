/**
 * What every quantization scheme shares: the channel layout of a tensor, the codebook formulas
 * (`levelValue`, `codebookFromParams`) and `dequantize`. A scheme only decides, per channel, the
 * few numbers the artifact stores (`params`); the codebook is always rebuilt from them by the
 * functions below, so the quantizer, the artifact reader and the trainer agree bit for bit.
 */
import type { QuantizedTensor, QuantScheme } from '../quantized_tensor.js';

/**
 * A tensor seen as [outer, channels, inner] around its channel axes: element
 * (o·channels + c)·inner + j belongs to channel c. Per tensor is channels = 1, inner = n.
 */
export interface Layout {
  axis: number | null;
  /** How many axes from `axis` on index the channel, flattened (a depthwise kernel's C·M: 2). */
  span: number;
  outer: number;
  channels: number;
  inner: number;
}

/** −1 (or any −k) counts from the last axis, as in numpy; null stays null. */
export function normaliseAxis(shape: readonly number[], channelAxis: number | null, fn: string): number | null {
  if (channelAxis === null) return null;
  const rank = shape.length;
  if (!Number.isInteger(channelAxis) || channelAxis < -rank || channelAxis >= rank) {
    throw new RangeError(
      `${fn}: channelAxis must be null or an integer in [${-rank}, ${rank - 1}] for shape [${shape.join(', ')}], got ${channelAxis}`,
    );
  }
  return channelAxis < 0 ? channelAxis + rank : channelAxis;
}

/**
 * Checks that `shape` describes exactly `n` elements and splits it around the channel axes:
 * `span` axes from `channelAxis` on (1: the axis alone).
 */
export function layoutOf(
  shape: readonly number[],
  channelAxis: number | null,
  n: number,
  fn: string,
  span = 1,
): Layout {
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new RangeError(`${fn}: shape entries must be integers >= 0, got [${shape.join(', ')}]`);
    size *= d;
  }
  if (size !== n) throw new RangeError(`${fn}: shape [${shape.join(', ')}] has ${size} elements but values has ${n}`);
  const axis = normaliseAxis(shape, channelAxis, fn);
  if (axis === null) return { axis, span: 1, outer: 1, channels: 1, inner: n };
  if (!Number.isInteger(span) || span < 1 || axis + span > shape.length)
    throw new RangeError(
      `${fn}: channelSpan must be an integer in [1, ${shape.length - axis}] for axis ${axis} of shape [${shape.join(', ')}], got ${span}`,
    );
  const prod = (a: readonly number[]) => a.reduce((p, d) => p * d, 1);
  return {
    axis,
    span,
    outer: prod(shape.slice(0, axis)),
    channels: prod(shape.slice(axis, axis + span)),
    inner: prod(shape.slice(axis + span)),
  };
}

/** ceil(log2(levels)): the width of a fixed-length code for `levels` symbols. */
export function bitsForLevels(levels: number): number {
  let b = 0;
  while (2 ** b < levels) b++;
  return b;
}

/** How many numbers one channel's `params` holds. */
export function paramsPerChannel(scheme: QuantScheme, levels: number): number {
  switch (scheme) {
    case 'asymmetric':
      return 2;
    case 'kmeans':
      return levels;
    default:
      return 1;
  }
}

/** The codebook sizes each scheme can produce (binary has a third, zero symbol under a mask). */
function levelsValid(scheme: QuantScheme, levels: number): boolean {
  if (!Number.isInteger(levels) || levels < 2 || levels > 65536) return false;
  switch (scheme) {
    case 'symmetric':
    case 'pow2':
      return levels % 2 === 1 && levels >= 3 && levels <= 65535 && Number.isInteger(Math.log2(levels + 1));
    case 'asymmetric':
      return Number.isInteger(Math.log2(levels));
    case 'binary':
      return levels === 2 || levels === 3;
    case 'ternary':
      return levels === 3;
    case 'kmeans':
      return true;
  }
}

/**
 * Symbol k of a channel whose params start at p[off], as the float32 the codebook holds. `+ 0`
 * turns −0 (e.g. −1 · 0 for an all-zero channel) into +0, so "decodes to exactly 0" also holds
 * under Object.is and a zero code never flips a sign bit.
 */
export function levelValue(scheme: QuantScheme, levels: number, p: ArrayLike<number>, off: number, k: number): number {
  switch (scheme) {
    case 'symmetric':
    case 'pow2':
      return Math.fround((k - (levels - 1) / 2) * p[off]) + 0;
    case 'asymmetric':
      return Math.fround((k - p[off + 1]) * p[off]) + 0;
    case 'binary':
      return Math.fround((levels === 2 ? 2 * k - 1 : k - 1) * p[off]) + 0;
    case 'ternary':
      return Math.fround((k - 1) * p[off]) + 0;
    case 'kmeans':
      return Math.fround(p[off + k]) + 0;
  }
}

/**
 * The codebook (channels × levels) that `params` stands for — the exact inverse of how every
 * quantizer in this folder stores it: symmetric and pow2 (k − qmax)·scale with qmax = (levels−1)/2,
 * asymmetric (k − zeroPoint)·scale, binary {−α, α} or {−α, 0, α} (levels 3: masked), ternary
 * {−α, 0, α}, kmeans the centroids themselves. Each value is computed in double and rounded once
 * to float32, which is also how the quantizer built it.
 */
export function codebookFromParams(
  scheme: QuantScheme,
  bits: number,
  levels: number,
  params: ArrayLike<number>,
  channels: number,
): Float32Array {
  if (!levelsValid(scheme, levels))
    throw new RangeError(`codebookFromParams: levels ${levels} is not a valid codebook size for scheme '${scheme}'`);
  if (bits !== bitsForLevels(levels)) {
    throw new RangeError(
      `codebookFromParams: bits must be ceil(log2(levels)) = ${bitsForLevels(levels)} for ${levels} levels, got ${bits}`,
    );
  }
  if (!Number.isInteger(channels) || channels < 0)
    throw new RangeError(`codebookFromParams: channels must be an integer >= 0, got ${channels}`);
  const per = paramsPerChannel(scheme, levels);
  if (params.length !== channels * per) {
    throw new RangeError(
      `codebookFromParams: params must hold ${per} value(s) per channel × ${channels} channels = ${channels * per} for scheme '${scheme}', got ${params.length}`,
    );
  }
  const cb = new Float32Array(channels * levels);
  for (let c = 0; c < channels; c++) {
    for (let k = 0; k < levels; k++) cb[c * levels + k] = levelValue(scheme, levels, params, c * per, k);
  }
  return cb;
}

/** Element i of channel c becomes codebook[c · levels + codes[i]]. */
export function dequantize(q: QuantizedTensor): Float32Array {
  const n = q.codes.length;
  const { outer, channels, inner } = layoutOf(q.shape, q.channelAxis, n, 'dequantize', q.channelSpan);
  if (q.codebook.length !== channels * q.levels) {
    throw new RangeError(
      `dequantize: codebook must hold channels × levels = ${channels * q.levels} values, got ${q.codebook.length}`,
    );
  }
  const { codebook, codes, levels } = q;
  const out = new Float32Array(n);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = c * levels;
      for (let j = 0; j < inner; j++, i++) {
        const k = codes[i];
        if (k >= levels) throw new RangeError(`dequantize: code ${k} at index ${i} is not < levels ${levels}`);
        out[i] = codebook[base + k];
      }
    }
  }
  return out;
}
