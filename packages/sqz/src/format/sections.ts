/**
 * One layer's binary section of a `.sqz` file, read side: a few byte-aligned parts, always in the
 * order of PART_ORDER, decoded with the small metadata the JSON header records. The container
 * (container.ts) cuts the file into sections; this file knows what is inside one. ARTIFACT.md in
 * @squash/compressors (which has the writer) documents the bytes.
 */
import { BitReader } from './bit_reader.js';
import { type CodebookStorage, type QuantScheme, deriveCodebook, floatsPerChannel } from './codebook.js';
import { huffmanDecode, readCodeLengths } from './huffman.js';
import { decodeRelativeIndices } from './relative_index.js';

export type EncodingKind = 'float32' | 'sparse-float32' | 'quantized';

/** Header fields that describe a section's content (besides name, shape, byteOffset, byteLength, parts). */
export type SectionMeta =
  | { encoding: 'float32' }
  | { encoding: 'sparse-float32'; indexBits: number; entries: number; huffman: boolean }
  | {
      encoding: 'quantized';
      scheme: QuantScheme;
      bits: number;
      levels: number;
      /** Non-negative, or null for one codebook per tensor. */
      channelAxis: number | null;
      /** Axes from channelAxis on that index the channel, flattened; written (format 3) only when > 1. */
      channelSpan?: number;
      codebook: CodebookStorage;
      huffman: boolean;
      /** Both null for a dense tensor. */
      indexBits: number | null;
      entries: number | null;
    };

export const PART_ORDER: Record<EncodingKind, readonly string[]> = {
  float32: ['values'],
  'sparse-float32': ['tables', 'indices', 'values'],
  quantized: ['codebook', 'tables', 'indices', 'codes'],
};

/** Indices and Huffman alphabets stay ≤ 2^16 symbols; Deep Compression uses 4–8 bits. */
export const MAX_INDEX_BITS = 16;

// ---------------------------------------------------------------- channels

/** Channel of each flat (row-major) position: floor(i / stride) mod count. */
export interface Channels {
  count: number;
  stride: number;
}

export function channelsOf(shape: number[], axis: number | null, span = 1): Channels {
  if (axis === null) return { count: 1, stride: 1 };
  let count = 1;
  for (let d = axis; d < axis + span; d++) count *= shape[d];
  let stride = 1;
  for (let d = axis + span; d < shape.length; d++) stride *= shape[d];
  return { count, stride };
}

export const channelAt = (ch: Channels, i: number): number =>
  ch.count === 1 ? 0 : Math.floor(i / ch.stride) % ch.count;

// ---------------------------------------------------------------- parts

export function readFloat32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length >> 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function expectBytes(what: string, bytes: Uint8Array, expected: number): void {
  if (bytes.length !== expected) throw new RangeError(`${what}: expected ${expected} bytes, found ${bytes.length}`);
}

function unpackPart(what: string, bytes: Uint8Array, bits: number, count: number): Uint32Array {
  expectBytes(`${what} (${count} × ${bits} bits)`, bytes, Math.ceil((count * bits) / 8));
  return new BitReader(bytes).readMany(bits, count);
}

function decodeHuffmanPart(what: string, bytes: Uint8Array, lengths: Uint8Array, count: number): Uint32Array {
  const r = new BitReader(bytes);
  const out = huffmanDecode(r, lengths, count);
  expectBytes(`${what} (Huffman-coded ${count} symbols)`, bytes, Math.ceil(r.position / 8));
  return out;
}

/** The length table of the next Huffman-coded part, whose alphabet the header fixes. */
function tableFor(what: string, tables: BitReader, alphabet: number): Uint8Array {
  try {
    return readCodeLengths(tables, alphabet);
  } catch (e) {
    if (e instanceof RangeError) throw new RangeError(`tables (for ${what}): ${e.message}`, { cause: e });
    throw e;
  }
}

// ---------------------------------------------------------------- decode

/**
 * The dense float32 tensor of a section. `parts` holds every part the header lists; `meta` and
 * `shape` have been validated by the caller. Throws RangeError naming the part on inconsistent bytes.
 */
export function decodeSection(meta: SectionMeta, shape: number[], parts: Map<string, Uint8Array>): Float32Array {
  let n = 1;
  for (const d of shape) n *= d;
  const part = (name: string): Uint8Array => {
    const p = parts.get(name);
    if (p === undefined) throw new RangeError(`expected a "${name}" part for encoding ${meta.encoding}, found none`);
    return p;
  };
  if (meta.encoding === 'float32') {
    expectBytes('values', part('values'), 4 * n);
    return readFloat32(part('values'));
  }

  const sparse = meta.encoding === 'sparse-float32' || meta.indexBits !== null;
  const entries = sparse ? meta.entries! : n;
  if (!Number.isInteger(entries) || entries < 0 || entries > n) {
    throw new RangeError(`expected at most ${n} sparse entries (the shape's size), found ${entries}`);
  }
  const huffman = meta.huffman;
  let tables: BitReader | null = null;
  if (huffman) tables = new BitReader(part('tables'));
  let positions: Int32Array | null = null;
  if (sparse) {
    const indexBits = meta.indexBits!;
    const gaps = huffman
      ? decodeHuffmanPart('indices', part('indices'), tableFor('indices', tables!, 2 ** indexBits), entries)
      : unpackPart('indices', part('indices'), indexBits, entries);
    // The last position is the sum of (gap + 1) − 1; summing in float64 cannot wrap like int32 would.
    let last = -1;
    for (let e = 0; e < entries; e++) last += gaps[e] + 1;
    if (last >= n) throw new RangeError(`indices: expected positions below ${n} (the shape's size), found ${last}`);
    positions = decodeRelativeIndices(gaps);
  }

  if (meta.encoding === 'sparse-float32') {
    if (tables !== null) expectBytes('tables', part('tables'), Math.ceil(tables.position / 8));
    expectBytes('values', part('values'), 4 * entries);
    const values = readFloat32(part('values'));
    const out = new Float32Array(n);
    for (let e = 0; e < entries; e++) out[positions![e]] = values[e];
    return out;
  }

  const ch = channelsOf(shape, meta.channelAxis, meta.channelSpan);
  const levels = meta.levels;
  const per = floatsPerChannel(meta.codebook, meta.scheme, levels);
  expectBytes(`codebook (${meta.codebook}, ${ch.count} channels)`, part('codebook'), 4 * per * ch.count);
  const floats = readFloat32(part('codebook'));
  const codebook = meta.codebook === 'full' ? floats : deriveCodebook(meta.scheme, levels, floats, ch.count)!;
  const codes = huffman
    ? decodeHuffmanPart('codes', part('codes'), tableFor('codes', tables!, levels), entries)
    : unpackPart('codes', part('codes'), meta.bits, entries);
  if (tables !== null) expectBytes('tables', part('tables'), Math.ceil(tables.position / 8));
  const out = new Float32Array(n);
  fillFromCodebook(out, codes, positions, codebook, levels, ch.count, ch.stride);
  return out;
}

/**
 * out[pos] = codebook[channel(pos) · levels + code] for every entry: the loop that touches every
 * weight of a big model, so numbers and typed arrays only. Rejects a code ≥ levels.
 */
function fillFromCodebook(
  out: Float32Array,
  codes: Uint32Array,
  positions: Int32Array | null,
  codebook: Float32Array,
  levels: number,
  channels: number,
  stride: number,
): void {
  for (let e = 0; e < codes.length; e++) {
    const code = codes[e];
    if (code >= levels)
      throw new RangeError(`codes: expected codes below levels = ${levels}, found ${code} at entry ${e}`);
    const pos = positions === null ? e : positions[e];
    const c = channels === 1 ? 0 : Math.floor(pos / stride) % channels;
    out[pos] = codebook[c * levels + code];
  }
}
