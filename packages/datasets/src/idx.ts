/**
 * Reader for the IDX format (LeCun's MNIST container): 2 zero bytes, a type code, a dimension
 * count, one big-endian uint32 per dimension, then the elements big-endian in row-major order.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DatasetError } from '@squash/core';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPE_CODES: Record<number, { dtype: IdxDtype; size: number }> = {
  8: { dtype: 'uint8', size: 1 },
  9: { dtype: 'int8', size: 1 },
  11: { dtype: 'int16', size: 2 },
  12: { dtype: 'int32', size: 4 },
  13: { dtype: 'float32', size: 4 },
  14: { dtype: 'float64', size: 8 },
};

// The format allows up to 255 dimensions, but nothing we load needs more than 4 and a large count
// is far more likely to be a foreign file that happens to start with two zero bytes.
const MAX_DIMS = 4;

const hex = (b: Uint8Array): string => [...b].map((v) => v.toString(16).padStart(2, '0')).join(' ');

/** Reads an IDX file, gunzipping it when it is gzip-compressed. */
export function readIdx(path: string): IdxArray {
  if (!existsSync(path)) {
    throw new DatasetError(`IDX file not found: ${path}`, { location: { file: path } });
  }
  if (!statSync(path).isFile()) {
    throw new DatasetError(`not a file: ${path}`, { location: { file: path } });
  }
  return parseIdx(readFileSync(path), path);
}

/** Parses IDX bytes (plain or gzip); `source` names the file in error messages. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const name = basename(source);
  const fail = (msg: string, cause?: unknown): DatasetError =>
    new DatasetError(`${name}: ${msg}`, { location: { file: source }, cause });

  // Decide by the magic bytes rather than the name alone: browsers often unpack a downloaded
  // `.gz` transparently and keep the suffix, and an IDX file can never start with 1f 8b.
  let raw = bytes;
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (gzipped) {
    try {
      raw = gunzipSync(bytes);
    } catch (err) {
      throw fail(`corrupt gzip data: ${(err as Error).message}`, err);
    }
  }
  const after = gzipped ? ' (after gunzip)' : '';

  if (raw.length < 4) {
    throw fail(`not an IDX file: only ${raw.length} bytes${after}, shorter than the 4-byte magic number`);
  }
  const type = TYPE_CODES[raw[2]];
  if (raw[0] !== 0 || raw[1] !== 0 || type === undefined) {
    throw fail(
      `not an IDX file: magic bytes are ${hex(raw.subarray(0, 4))}, expected 00 00 <type> <ndims>` +
        ` with type one of 08 (uint8), 09 (int8), 0b (int16), 0c (int32), 0d (float32), 0e (float64)`,
    );
  }
  const ndims = raw[3];
  if (ndims < 1 || ndims > MAX_DIMS) {
    throw fail(
      `IDX header declares ${ndims} dimensions (magic bytes ${hex(raw.subarray(0, 4))}); supported: 1 to ${MAX_DIMS}`,
    );
  }
  const headerLen = 4 + 4 * ndims;
  if (raw.length < headerLen) {
    throw fail(
      `truncated header: ${ndims} dimensions need a ${headerLen}-byte header, file has ${raw.length} bytes${after}`,
    );
  }

  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = count * type.size;
  const actual = raw.length - headerLen;
  const declared = `header declares ${dims.join('×')} ${type.dtype} = ${expected} bytes of data`;
  if (actual < expected) {
    throw fail(`truncated: ${declared}, file has ${actual} bytes after the ${headerLen}-byte header${after}`);
  }
  if (actual > expected) {
    throw fail(
      `trailing data: ${declared}, file has ${actual} bytes after the ${headerLen}-byte header${after}` +
        ` (${actual - expected} extra)`,
    );
  }
  return { dtype: type.dtype, dims, data: decode(type.dtype, raw, headerLen, count) };
}

/**
 * Copies the payload out, never a view: small reads share Node's pooled buffer. Note that
 * `Buffer#slice` is itself a view, hence the typed-array constructors instead.
 */
function decode(dtype: IdxDtype, raw: Uint8Array, offset: number, n: number): IdxArray['data'] {
  if (dtype === 'uint8') return new Uint8Array(raw.subarray(offset, offset + n));
  if (dtype === 'int8') return new Int8Array(new Uint8Array(raw.subarray(offset, offset + n)).buffer);
  const v = new DataView(raw.buffer, raw.byteOffset + offset);
  // Typed arrays use the host's (little-endian) order, so each element is byte-swapped on read.
  switch (dtype) {
    case 'int16':
      return Int16Array.from({ length: n }, (_, i) => v.getInt16(2 * i, false));
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => v.getInt32(4 * i, false));
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => v.getFloat32(4 * i, false));
    case 'float64':
      return Float64Array.from({ length: n }, (_, i) => v.getFloat64(8 * i, false));
  }
}
