/**
 * .sqz files assembled byte by byte, independently of any writer (sqz's tests must not import
 * @squash/compressors): every byte below is computed by hand in the comments.
 */
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../crc32.js';

/** A .sqz file assembled byte by byte, independently of any writer: preamble, header, then `data`. */
export function sqzFile(version: number, header: object, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const h = version === 1 ? json : new Uint8Array(deflateRawSync(json));
  const pre = version >= 4 ? 14 : 10;
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x53, 0x51, 0x5a, 0x31]); // "SQZ1"
  const view = new DataView(out.buffer);
  view.setUint16(4, version, true);
  view.setUint32(6, h.length, true);
  out.set(h, pre);
  out.set(data, pre + h.length);
  if (version >= 4) view.setUint32(10, crc32(out.subarray(14), crc32(out.subarray(0, 10))), true);
  return out;
}

export const f32 = (...xs: number[]): number[] => Array.from(new Uint8Array(Float32Array.from(xs).buffer)); // little-endian hosts
export const bitsToBytes = (bits: string): number[] =>
  Array.from({ length: Math.ceil(bits.length / 8) }, (_, i) =>
    Number.parseInt(bits.slice(i * 8, i * 8 + 8).padEnd(8, '0'), 2),
  );

export const FLOAT = {
  name: 'bias',
  shape: [2],
  encoding: 'float32',
  byteOffset: 0,
  byteLength: 8,
  parts: { values: 8 },
};

// Sparse, 2-bit gaps: positions 1 and 6 of 8 are entries at 1 (stored 1), a filler at 5 (stored
// 3) and 6 (stored 0): 01 11 00 → 0x70.
export const sparse = {
  name: 'sparse',
  shape: [8],
  encoding: 'sparse-float32',
  huffman: false,
  indexBits: 2,
  entries: 3,
  byteOffset: 8,
  byteLength: 13,
  parts: { indices: 1, values: 12 },
};
export const sparseData = [0x70, ...f32(0.25, 0, -4)];
// Symmetric, one scale 0.5 for 3 levels → codebook [−0.5, 0, 0.5]; 2-bit codes 0 1 2 2 → 0x1A.
export const symmetric = {
  name: 'sym',
  shape: [4],
  encoding: 'quantized',
  scheme: 'symmetric',
  bits: 2,
  levels: 3,
  channelAxis: null,
  codebook: 'params',
  huffman: false,
  indexBits: null,
  entries: null,
  byteOffset: 21,
  byteLength: 5,
  parts: { codebook: 4, codes: 1 },
};
export const symmetricData = [...f32(0.5), 0x1a];
// k-means, full codebook per column of [2, 2] (channel = i mod 2), Huffman-coded codes 0 1 2 3
// with lengths 2 1 3 3 (codes 10, 0, 110, 111). Table: alphabet 4, runs (2, 1) (1, 1) (3, 2).
export const table = ['0'.repeat(29), '100', '000010', '1', '000001', '1', '000011', '010'].join('');
export const kmeans = {
  name: 'km',
  shape: [2, 2],
  encoding: 'quantized',
  scheme: 'kmeans',
  bits: 2,
  levels: 4,
  channelAxis: 1,
  codebook: 'full',
  huffman: true,
  indexBits: null,
  entries: null,
  byteOffset: 26,
  byteLength: 32 + 7 + 2,
  parts: { codebook: 32, tables: 7, codes: 2 },
};
export const kmeansData = [...f32(0, 1, 2, 3, 0, 10, 20, 30), ...bitsToBytes(table), ...bitsToBytes('100110111')];
/** A version 4 file with one layer of each kind above, sections in that order. */
export const v4 = sqzFile(4, { model: null, layers: [FLOAT, sparse, symmetric, kmeans] }, [
  ...f32(1.5, -2),
  ...sparseData,
  ...symmetricData,
  ...kmeansData,
]);
