/** Turns parsed `.npy` arrays into a split's pixels and labels, in one pass over each array's bytes. */
import { DatasetError } from '@squash/core';
import { dtypeName, type NpyArray } from './npy.js';

/** uint8 → [0, 1] by table: a lookup is cheaper than a division per pixel. */
export const BYTE_SCALE = Float32Array.from({ length: 256 }, (_, i) => i / 255);

const fail = (a: NpyArray, msg: string, hint?: string): DatasetError =>
  new DatasetError(`${a.source}: ${msg}`, { location: { file: a.file }, hint });

/**
 * Image values as float32: uint8 is scaled by 1/255, float32/float64 are used as they are (the
 * exporter decides their range) but must be finite. Little-endian float32 is not copied.
 */
export function npyPixels(a: NpyArray): Float32Array {
  const { kind, size, littleEndian } = a.dtype;
  const n = a.bytes.length / size;
  let out: Float32Array;
  if (kind === 'u' && size === 1) {
    out = new Float32Array(n);
    const b = a.bytes;
    for (let i = 0; i < n; i++) out[i] = BYTE_SCALE[b[i]!]!;
    return out;
  }
  if (kind !== 'f') {
    throw fail(
      a,
      `image dtype ${dtypeName(a.dtype)} (${a.dtype.descr}) is not supported; expected uint8, float32 or float64`,
    );
  }
  const aligned = a.bytes.byteOffset % size === 0;
  if (littleEndian && size === 4) {
    out = aligned ? new Float32Array(a.bytes.buffer, a.bytes.byteOffset, n) : new Float32Array(a.bytes.slice().buffer);
  } else if (littleEndian && aligned) {
    out = new Float32Array(new Float64Array(a.bytes.buffer, a.bytes.byteOffset, n));
  } else {
    out = new Float32Array(n);
    const v = new DataView(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength);
    if (size === 4) for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, littleEndian);
    else for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, littleEndian);
  }
  for (let i = 0; i < n; i++) {
    // x - x is 0 for every finite x and NaN for NaN and ±Infinity.
    if (out[i]! - out[i]! !== 0) {
      throw fail(
        a,
        `value ${out[i]} at flat index ${i} (sample ${Math.floor(i / (n / a.shape[0]!))}); images must be finite`,
      );
    }
  }
  return out;
}

/** Reads element `i` of an integer array as a JS number (exact below 2^53, which labels are). */
function integerReader(a: NpyArray): (i: number) => number {
  const { kind, size, littleEndian: le } = a.dtype;
  const v = new DataView(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength);
  const signed = kind === 'i';
  switch (size) {
    case 1:
      return signed ? (i) => v.getInt8(i) : (i) => v.getUint8(i);
    case 2:
      return signed ? (i) => v.getInt16(2 * i, le) : (i) => v.getUint16(2 * i, le);
    case 4:
      return signed ? (i) => v.getInt32(4 * i, le) : (i) => v.getUint32(4 * i, le);
    default: {
      // Two 32-bit halves avoid BigInt per element; the high half carries the sign.
      const [lo, hi] = le ? [0, 4] : [4, 0];
      return (i) => {
        const high = signed ? v.getInt32(8 * i + hi, le) : v.getUint32(8 * i + hi, le);
        return high * 2 ** 32 + v.getUint32(8 * i + lo, le);
      };
    }
  }
}

/** The largest class count a label byte can hold. */
export const MAX_CLASSES = 256;

/**
 * Labels as bytes: a 1-D integer array, or [N, 1] as Keras' datasets return them. Each must be in
 * [0, `limit`) when a limit is given, and below MAX_CLASSES always.
 */
export function npyLabels(a: NpyArray, limit: number | undefined, limitWhy: string): Uint8Array {
  if (a.dtype.kind === 'f') {
    throw fail(a, `labels are ${dtypeName(a.dtype)}; expected integer class indices (int8 to int64, uint8 to uint64)`);
  }
  const n = a.shape[0]!;
  const read = integerReader(a);
  const max = limit ?? MAX_CLASSES;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = read(i);
    if (label < 0 || label >= max) {
      const range =
        limit === undefined
          ? `at most ${MAX_CLASSES} classes (labels 0 to ${MAX_CLASSES - 1}) are supported`
          : `expected 0 to ${max - 1} (${limitWhy})`;
      throw fail(a, `label ${label} at index ${i} is out of range: ${range}`);
    }
    out[i] = label;
  }
  return out;
}

/** [N, C, H, W] → [N, H, W, C]. */
export function toChannelsLast(x: Float32Array, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  const plane = h! * w!;
  const sample = plane * c!;
  for (let s = 0; s < n!; s++) {
    const base = s * sample;
    for (let ch = 0; ch < c!; ch++) {
      const from = base + ch * plane;
      for (let p = 0; p < plane; p++) out[base + p * c! + ch] = x[from + p]!;
    }
  }
  return out;
}
