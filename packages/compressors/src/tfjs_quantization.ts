/**
 * TensorFlow.js' own quantized weight format: the bytes and manifest entry that
 * `tensorflowjs_converter --quantize_uint8 / --quantize_uint16 / --quantize_float16` writes, chosen so
 * that stock tfjs decodes a tensor to exactly its values whenever that is possible.
 *
 * tfjs-core 4.22 (`io/io_utils.js`, decodeWeight) reads a uint8/uint16 code q as
 * `values[i] = q * scale + min` — computed in double, stored into a Float32Array, so rounded once
 * to float32 — and a float16 through its table decoder. The converter picks min and scale from
 * the tensor's min and max (zero point nudged to an integer); a Squash tensor that was quantized
 * (a symmetric or asymmetric codebook, pruned zeros included) already lies on a grid, and this
 * module finds that grid instead, so the export loses nothing. Pure: no tfjs import.
 */
import { float16Bits, float16Value } from './float16.js';

export type TfjsQuantDtype = 'uint8' | 'uint16' | 'float16';

export const TFJS_QUANT_DTYPES: readonly TfjsQuantDtype[] = ['uint8', 'uint16', 'float16'];

/** A weight's `quantization` entry in model.json, key for key as the converter writes it. */
export type TfjsQuantization =
  | { dtype: 'uint8' | 'uint16'; min: number; scale: number; original_dtype: 'float32' }
  | { dtype: 'float16'; original_dtype: 'float32' };

export interface TfjsQuantizedWeight {
  /** The codes as the shard holds them (uint16 and float16 little-endian). */
  bytes: Uint8Array;
  quantization: TfjsQuantization;
  /** Every value decodes to exactly itself in tfjs (−0 counts as 0). */
  exact: boolean;
  /** Largest |decoded − original| over the tensor (0 when exact). */
  maxAbsError: number;
}

const QMAX = { uint8: 255, uint16: 65535 } as const;

/** Quantizes one float32 tensor for tfjs' weight manifest. */
export function quantizeForTfjs(values: Float32Array, dtype: TfjsQuantDtype): TfjsQuantizedWeight {
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]))
      throw new RangeError(`quantizeForTfjs: value ${values[i]} at index ${i} is not finite`);
  if (dtype === 'float16') return float16Weight(values);
  if (dtype !== 'uint8' && dtype !== 'uint16')
    throw new RangeError(`quantizeForTfjs: dtype must be one of ${TFJS_QUANT_DTYPES.join(', ')}, got '${dtype}'`);
  const qmax = QMAX[dtype];
  const grid = exactGrid(distinctSorted(values), qmax);
  const { min, scale, codes } = grid ? { ...grid, codes: encodeExact(values, grid) } : converterAffine(values, qmax);
  // + 0: the converter's nudged min can be −0 (−0 · scale); JSON would print it as 0 anyway.
  const quantization: TfjsQuantization = { dtype, min: min + 0, scale, original_dtype: 'float32' };
  const bytes = packCodes(codes, dtype);
  const maxAbsError = maxError(values, dequantizeTfjs(bytes, quantization, values.length));
  return { bytes, quantization, exact: maxAbsError === 0, maxAbsError };
}

/**
 * What tfjs-core 4.22 decodes `bytes` to (decodeWeight for a float32 weight): `q * scale + min` in
 * double, stored to float32; float16 by value. For measuring and for tests.
 */
export function dequantizeTfjs(bytes: Uint8Array, quantization: TfjsQuantization, count: number): Float32Array {
  const out = new Float32Array(count);
  if (quantization.dtype === 'uint8') {
    for (let i = 0; i < count; i++) out[i] = bytes[i]! * quantization.scale + quantization.min;
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) {
    const q = view.getUint16(2 * i, true);
    out[i] = quantization.dtype === 'uint16' ? q * quantization.scale + quantization.min : float16Value(q);
  }
  return out;
}

function float16Weight(values: Float32Array): TfjsQuantizedWeight {
  const bytes = new Uint8Array(2 * values.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(2 * i, float16Bits(values[i]!), true);
  const quantization: TfjsQuantization = { dtype: 'float16', original_dtype: 'float32' };
  const maxAbsError = maxError(values, dequantizeTfjs(bytes, quantization, values.length));
  return { bytes, quantization, exact: maxAbsError === 0, maxAbsError };
}

function maxError(values: Float32Array, decoded: Float32Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const e = Math.abs(decoded[i]! - values[i]!);
    if (!(e <= max)) max = e; // NaN (an overflow to ±Infinity minus itself) counts as the worst
  }
  return max;
}

function packCodes(codes: Uint16Array, dtype: 'uint8' | 'uint16'): Uint8Array {
  if (dtype === 'uint8') return Uint8Array.from(codes);
  const bytes = new Uint8Array(2 * codes.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < codes.length; i++) view.setUint16(2 * i, codes[i]!, true);
  return bytes;
}

/** The tensor's distinct values, ascending (−0 as 0). */
function distinctSorted(values: Float32Array): Float64Array {
  const sorted = Float32Array.from(values).sort();
  const out: number[] = [];
  for (const v of sorted) if (!out.length || v !== out[out.length - 1]) out.push(v + 0);
  return Float64Array.from(out);
}

/** A grid tfjs decodes: value of code q is fround(q * scale + min); `codeOf` maps each distinct value to its q. */
interface Grid {
  min: number;
  scale: number;
  codeOf: Map<number, number>;
}

function encodeExact(values: Float32Array, grid: Grid): Uint16Array {
  const codes = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) codes[i] = grid.codeOf.get(values[i]! + 0)!;
  return codes;
}

/**
 * The coarsest grid of at most qmax steps from the smallest to the largest distinct value on
 * which every one of them decodes bit-exactly, if any: for each step count k, codes come from the
 * even split of [min, max] into k steps, and (min, scale) from the constraints those codes put on
 * them (`fitGrid`); the result is verified with tfjs' own arithmetic.
 */
export function exactGrid(distinct: Float64Array, qmax: number): Grid | undefined {
  const n = distinct.length;
  if (n === 0) return { min: 0, scale: 1, codeOf: new Map() };
  // One value: every code is 0 and decodes to min whatever the scale (the converter's choice, 1).
  if (n === 1) return { min: distinct[0]!, scale: 1, codeOf: new Map([[distinct[0]!, 0]]) };
  const lo = distinct[0]!;
  const span = distinct[n - 1]! - lo;
  const codes = new Float64Array(n);
  for (let k = n - 1; k <= qmax; k++) {
    if (!codesOnGrid(distinct, lo, span / k, codes)) continue;
    // The plain grid when it works (readable numbers in model.json), else the fitted one.
    const plain = { min: lo, scale: span / k };
    const fit = decodesExactly(distinct, codes, plain.min, plain.scale) ? plain : fitGrid(distinct, codes);
    if (fit) return { ...fit, codeOf: new Map(Array.from(distinct, (v, i) => [v, codes[i]!])) };
  }
  return undefined;
}

/**
 * Codes of the distinct values on the even grid of step `step` from `lo`, or false as soon as one
 * lies clearly between two grid points. Float32 rounding moves a true grid value by at most half an
 * ulp, under 0.02 steps for k ≤ 65535, so 0.1 rejects wrong step counts without rejecting right ones.
 */
function codesOnGrid(distinct: Float64Array, lo: number, step: number, codes: Float64Array): boolean {
  for (let i = 0; i < distinct.length; i++) {
    const t = (distinct[i]! - lo) / step;
    const q = Math.round(t);
    if (Math.abs(t - q) > 0.1 || (i > 0 && q <= codes[i - 1]!)) return false;
    codes[i] = q;
  }
  return true;
}

/** The doubles x with fround(x) === v lie between these (v a float32; at either end, ties to even decide). */
function roundingInterval(v: number): [number, number] {
  return [(v + nextFloat32(v, -1)) / 2, (v + nextFloat32(v, 1)) / 2];
}

const bitsView = new Float32Array(1);
const bitsInt = new Int32Array(bitsView.buffer);

/** The float32 next to `v` (a float32) towards ±Infinity. */
function nextFloat32(v: number, direction: 1 | -1): number {
  if (v === 0) return direction * 2 ** -149;
  bitsView[0] = v;
  bitsInt[0]! += v > 0 === direction > 0 ? 1 : -1;
  return bitsView[0]!;
}

/**
 * A (min, scale) under which every code q_i decodes to value i: fround(q_i·scale + min) = v_i,
 * i.e. L_i < min + q_i·scale < U_i (its float32 rounding interval). Written around the value of
 * smallest magnitude a, whose interval is the narrowest (0's is ±2^-150), as min = c − q_a·scale
 * with c in (L_a, U_a): for a fixed c each other value bounds the scale, (L_i − c)/d_i and
 * (U_i − c)/d_i with d_i = q_i − q_a, and the middle of what all allow is taken. c = v_a first,
 * then other points of its interval; each candidate is checked with tfjs' arithmetic.
 */
function fitGrid(distinct: Float64Array, codes: Float64Array): { min: number; scale: number } | undefined {
  const n = distinct.length;
  let a = 0;
  for (let i = 1; i < n; i++) if (Math.abs(distinct[i]!) < Math.abs(distinct[a]!)) a = i;
  const intervals = Array.from(distinct, roundingInterval);
  const [la, ua] = intervals[a]!;
  const qa = codes[a]!;
  const anchors = [distinct[a]!, ...[1, 2, 3, 5, 6, 7].map((j) => la + ((ua - la) * j) / 8)];
  for (const c of anchors) {
    let from = -Infinity;
    let to = Infinity;
    for (let i = 0; i < n && to >= from; i++) {
      const d = codes[i]! - qa;
      if (d === 0) continue;
      const [l, u] = intervals[i]!;
      const x = (l - c) / d;
      const y = (u - c) / d;
      from = Math.max(from, Math.min(x, y));
      to = Math.min(to, Math.max(x, y));
    }
    // Closed: a product of a small code and a float32 scale can fall exactly on a rounding tie
    // (ties go to even), leaving the true scale as the only point all values allow.
    if (!(to >= from)) continue;
    const scale = (from + to) / 2;
    const min = c - qa * scale;
    if (decodesExactly(distinct, codes, min, scale)) return { min, scale };
  }
  return undefined;
}

function decodesExactly(distinct: Float64Array, codes: Float64Array, min: number, scale: number): boolean {
  for (let i = 0; i < distinct.length; i++) if (Math.fround(codes[i]! * scale + min) !== distinct[i]) return false;
  return true;
}

/** numpy's round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The converter's affine quantization (tensorflowjs/quantization.py): scale = (max − min) / qmax;
 * when the range holds 0, min is nudged so that 0 is a code; values clipped to the range and
 * rounded half to even. A constant tensor is all zeros with scale 1.
 */
function converterAffine(values: Float32Array, qmax: number): { min: number; scale: number; codes: Uint16Array } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const codes = new Uint16Array(values.length);
  if (!(hi > lo)) return { min: values.length ? lo : 0, scale: 1, codes };
  const scale = (hi - lo) / qmax;
  let min = lo;
  let max = hi;
  if (lo <= 0 && 0 <= hi) {
    min = -roundHalfEven(-lo / scale) * scale;
    max = qmax * scale + min;
  }
  for (let i = 0; i < values.length; i++) {
    const clipped = Math.min(Math.max(values[i]!, min), max);
    codes[i] = Math.min(Math.max(roundHalfEven((clipped - min) / scale), 0), qmax);
  }
  return { min, scale, codes };
}
