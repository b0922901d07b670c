/**
 * Reader for NumPy's `.npy` format (numpy.lib.format, versions 1.0–3.0): the magic `\x93NUMPY`,
 * a major and minor version byte, the header length (2 bytes little-endian in 1.0, 4 bytes in 2.0
 * and 3.0), a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (N, H, W), }`
 * (latin-1 before 3.0, UTF-8 in 3.0), then the elements.
 */
import { DatasetError } from '@squash/core';
import { parsePyLiteral, type PyValue } from './py_literal.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The numeric element types Squash reads: `kind` is NumPy's type character, `size` bytes per element. */
export interface NpyDtype {
  kind: 'u' | 'i' | 'f';
  size: number;
  littleEndian: boolean;
  /** As NumPy writes it, e.g. `<f4`; used in messages. */
  descr: string;
}

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** The elements in the file's byte order, C order; a view into the bytes given to parseNpy. */
  bytes: Uint8Array;
  /** Names the array in messages: a file, or `archive.npz: entry.npy`. */
  source: string;
  /** The file to report in an error's location. */
  file: string;
}

const NAMES: Record<string, string> = {
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  f4: 'float32',
  f8: 'float64',
};

/** What NumPy's type characters are, for messages about the ones Squash does not read. */
const UNSUPPORTED_KINDS: Record<string, string> = {
  b: 'bool',
  c: 'complex',
  O: 'object (pickled Python objects)',
  U: 'unicode string',
  S: 'byte string',
  a: 'byte string',
  V: 'void (raw or structured records)',
  M: 'datetime64',
  m: 'timedelta64',
};

export const dtypeName = (d: NpyDtype): string => NAMES[`${d.kind}${d.size}`] ?? d.descr;

const hex = (b: Uint8Array): string => [...b].map((v) => v.toString(16).padStart(2, '0')).join(' ');

/**
 * Parses `.npy` bytes; `source` names the array in messages, `file` is the error location.
 * Only the header is decoded here: the elements stay as bytes until a caller converts them.
 */
export function parseNpy(bytes: Uint8Array, source: string, file: string = source): NpyArray {
  const fail = (msg: string): DatasetError => new DatasetError(`${source}: ${msg}`, { location: { file } });
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    const start = bytes.subarray(0, 6);
    throw fail(
      `not a .npy file: it starts with ${start.length ? hex(start) : 'nothing'} (${bytes.length} bytes),` +
        ` expected the magic 93 4e 55 4d 50 59 ("\\x93NUMPY") and a version`,
    );
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) {
    throw fail(`.npy format version ${major}.${minor} is not supported; expected 1.0, 2.0 or 3.0`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw fail(`truncated: the file ends inside the header length`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (bytes.length < dataStart) {
    throw fail(`truncated header: it declares ${headerLen} header bytes, the file has ${bytes.length - 8 - lenBytes}`);
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lenBytes, dataStart));
  const header = parseHeader(text, fail);
  const dtype = parseDescr(header.descr, fail);
  const { shape } = header;
  if (header.fortranOrder && shape.filter((d) => d > 1).length > 1) {
    throw fail(
      `the array is stored in Fortran (column-major) order; expected C order` +
        ` (save np.ascontiguousarray(a) instead of a transposed or Fortran-ordered array)`,
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * dtype.size;
  const actual = bytes.length - dataStart;
  const declared = `the header declares shape (${shape.join(', ')}) of ${dtype.descr} = ${expected} bytes of data`;
  if (actual < expected) throw fail(`truncated: ${declared}, the file has ${actual} after the header`);
  if (actual > expected) throw fail(`trailing data: ${declared}, the file has ${actual} (${actual - expected} extra)`);
  // A plain Uint8Array even when given a Buffer, whose `slice` would be a view rather than a copy.
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset + dataStart, expected);
  return { dtype, shape, bytes: data, source, file };
}

interface Header {
  descr: PyValue;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, fail: (msg: string) => DatasetError): Header {
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text.trim());
  } catch (e) {
    throw fail(`the header is not a Python dict literal (${(e as Error).message}): ${JSON.stringify(text.trim())}`);
  }
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
    throw fail(`the header is not a dict: ${JSON.stringify(text.trim())}`);
  }
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!(key in dict)) throw fail(`the header has no '${key}' key: ${JSON.stringify(text.trim())}`);
  }
  const shape = dict.shape;
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw fail(`the header's shape is not a tuple of sizes: ${JSON.stringify(text.trim())}`);
  }
  if (typeof dict.fortran_order !== 'boolean') {
    throw fail(`the header's fortran_order is not True or False: ${JSON.stringify(text.trim())}`);
  }
  return { descr: dict.descr, fortranOrder: dict.fortran_order, shape: shape as number[] };
}

function parseDescr(descr: PyValue, fail: (msg: string) => DatasetError): NpyDtype {
  if (typeof descr !== 'string') {
    throw fail(`the array has a structured dtype (named fields); expected a plain numeric array`);
  }
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  const kind = m?.[2] ?? '';
  const size = Number(m?.[3] ?? 0);
  if (kind === 'O') {
    throw fail(
      `dtype object (${descr}) holds pickled Python objects, which Squash does not read;` +
        ` save a numeric array (e.g. np.stack(list).astype('float32'))`,
    );
  }
  if (!m || NAMES[`${kind}${size}`] === undefined) {
    const what = UNSUPPORTED_KINDS[kind] ?? 'unknown';
    throw fail(
      `dtype '${descr}' (${what}) is not supported; expected uint8, float32 or float64 images` +
        ` and integer labels (int8 to int64, uint8 to uint64)`,
    );
  }
  // '=' is the writer's native order; every machine NumPy supports for this is little-endian in practice.
  return { kind: kind as NpyDtype['kind'], size, littleEndian: m[1] !== '>', descr };
}
