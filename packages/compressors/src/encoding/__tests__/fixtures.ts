import { inflateRawSync } from 'node:zlib';
/**
 * Hand-built QuantizedTensors for the encoding tests, one per scheme, following the contract in
 * quantized_tensor.ts (the real schemes live elsewhere and are tested there).
 */
import type { Rng } from '@squash/core';
import { preambleBytes, SQZ_CRC_OFFSET, sqzChecksum } from '@squash/sqz/format';
import type { QuantScheme, QuantizedTensor } from '../../quantized_tensor.js';

export const SCHEMES: QuantScheme[] = ['symmetric', 'asymmetric', 'pow2', 'kmeans', 'binary', 'ternary'];

function channelCount(shape: number[], axis: number | null): { count: number; stride: number } {
  if (axis === null) return { count: 1, stride: 1 };
  const a = axis < 0 ? axis + shape.length : axis;
  return { count: shape[a], stride: shape.slice(a + 1).reduce((x, y) => x * y, 1) };
}

/** Channel of each flat position, for a shape and channel axis. */
export function channelOf(shape: number[], axis: number | null): (i: number) => number {
  const { count, stride } = channelCount(shape, axis);
  return (i) => Math.floor(i / stride) % count;
}

/** A random QuantizedTensor of the scheme; pruned positions (mask 0) get the channel's zero code. */
export function makeQuantized(
  rng: Rng,
  scheme: QuantScheme,
  shape: number[],
  axis: number | null,
  mask?: Uint8Array,
): QuantizedTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const channels = channelCount(shape, axis).count;
  const levels = { symmetric: 15, asymmetric: 16, pow2: 7, kmeans: 32, binary: 2, ternary: 3 }[scheme];
  const bits = Math.ceil(Math.log2(levels));
  const per = { symmetric: 1, asymmetric: 2, pow2: 1, kmeans: levels, binary: 1, ternary: 1 }[scheme];
  const params = new Float32Array(channels * per);
  const codebook = new Float32Array(channels * levels);
  const zeroCodes = new Int32Array(channels).fill(-1);
  const qmax = (levels - 1) / 2;
  for (let c = 0; c < channels; c++) {
    const scale = 0.01 + rng.next() * 0.1;
    const book = codebook.subarray(c * levels, (c + 1) * levels);
    if (scheme === 'symmetric' || scheme === 'pow2') {
      params[c] = scheme === 'pow2' ? 2 ** -(3 + rng.int(5)) : scale;
      for (let k = 0; k < levels; k++) book[k] = (k - qmax) * params[c];
      zeroCodes[c] = qmax;
    } else if (scheme === 'asymmetric') {
      params[2 * c] = scale;
      params[2 * c + 1] = 3 + rng.int(10);
      for (let k = 0; k < levels; k++) book[k] = (k - params[2 * c + 1]) * params[2 * c];
      zeroCodes[c] = params[2 * c + 1];
    } else if (scheme === 'kmeans') {
      // Symbol 0 is the pruned weights' exact zero, as in Deep Compression's shared-weight tables.
      for (let k = 1; k < levels; k++) book[k] = rng.normal() * scale;
      params.set(book, c * levels);
      zeroCodes[c] = 0;
    } else {
      params[c] = scale;
      book.set(scheme === 'binary' ? [-scale, scale] : [-scale, 0, scale]);
      if (scheme === 'ternary') zeroCodes[c] = 1;
    }
  }
  const codes = new Uint16Array(n);
  const channel = channelOf(shape, axis);
  for (let i = 0; i < n; i++) {
    const c = channel(i);
    codes[i] = mask && !mask[i] && zeroCodes[c] >= 0 ? zeroCodes[c] : rng.int(levels);
  }
  return { scheme, bits, shape, channelAxis: axis, levels, codebook, codes, params, zeroCodes };
}

/** The dense tensor a reader must reproduce: the codebook at kept positions, +0 at pruned ones. */
export function dequantize(q: QuantizedTensor, mask?: Uint8Array): Float32Array {
  const channel = channelOf(q.shape, q.channelAxis);
  return Float32Array.from(q.codes, (code, i) => (mask && !mask[i] ? 0 : q.codebook[channel(i) * q.levels + code]));
}

export function randomMask(rng: Rng, n: number, density: number): Uint8Array {
  return new Uint8Array(n).map(() => (rng.next() < density ? 1 : 0));
}

/** The bit patterns of a float array, for bitwise equality (−0 differs from 0, NaN payloads count). */
export function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** First index where the bit patterns differ, −1 if none; fast where toEqual on 10^5 elements is not. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = bits(a);
  const y = bits(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** The JSON header of a version 2–4 artifact (raw DEFLATE after the preamble: 14 bytes in version 4, else 10). */
export const headerOf = (bytes: Uint8Array, headerBytes: number) =>
  JSON.parse(new TextDecoder().decode(inflateRawSync(bytes.subarray(preambleOf(bytes), headerBytes))));

export const preambleOf = (bytes: Uint8Array): number =>
  preambleBytes(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(4, true));

/** `bytes` with the version 4 CRC-32 recomputed: for tests of what lies behind the checksum. */
export function withChecksum(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(SQZ_CRC_OFFSET, sqzChecksum(bytes), true);
  return bytes;
}
