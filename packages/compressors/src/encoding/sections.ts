/**
 * One layer's binary section of an artifact, write side: a few byte-aligned parts, always in the
 * order of PART_ORDER, plus the small metadata the JSON header records to decode them. The
 * container (artifact.ts) concatenates sections; this file knows what goes inside one. Decoding
 * is @squash/sqz's `decodeSection`. ARTIFACT.md documents the bytes.
 */
import {
  type Channels,
  channelAt,
  channelsOf,
  MAX_INDEX_BITS,
  type SectionMeta,
  type SqzLayerBytes,
} from '@squash/sqz/format';
import type { QuantizedTensor } from '../quantized_tensor.js';
import { BitWriter } from './bitstream.js';
import { codebookToStore } from './codebook.js';
import { huffmanCodeLengths, huffmanEncode, writeCodeLengths } from './huffman.js';
import { checkIndexBits, encodeRelativeIndices } from './relative_index.js';

export type LayerEncoding =
  | { kind: 'float32'; values: Float32Array }
  /** `values` is the dense tensor; the entries store it at the mask's kept positions. */
  | { kind: 'sparse-float32'; values: Float32Array; mask: Uint8Array; indexBits: number; huffman?: boolean }
  | { kind: 'quantized'; q: QuantizedTensor; mask?: Uint8Array; indexBits?: number; huffman?: boolean };

export interface ArtifactLayer {
  name: string;
  shape: number[];
  encoding: LayerEncoding;
}

/** Sizes in bytes: the whole section, and each of its parts (indices, codes, codebook, tables, values). */
export type LayerBytes = SqzLayerBytes;

/** Huffman codes up to 24 bits: plenty for 2^16 symbols, and decoding tables stay small. */
const MAX_CODE_BITS = 24;

export interface EncodedSection {
  meta: SectionMeta;
  /** In PART_ORDER; absent parts are omitted. */
  parts: [string, Uint8Array][];
}

// ---------------------------------------------------------------- primitive parts

function float32Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

/** Fixed-width packing of values < 2^bits (checked by the callers), through an identity code table. */
function packBits(values: ArrayLike<number>, bits: number): Uint8Array {
  const w = new BitWriter(Math.ceil((values.length * bits) / 8) + 8);
  const identity = Uint32Array.from({ length: 2 ** bits }, (_, v) => v);
  w.writeSymbols(values, identity, new Uint8Array(2 ** bits).fill(bits));
  return w.finish().bytes;
}

function histogram(symbols: ArrayLike<number>, alphabet: number): Float64Array {
  const freq = new Float64Array(alphabet);
  for (let i = 0; i < symbols.length; i++) freq[symbols[i]]++;
  return freq;
}

/** Huffman-codes each stream with its own table; all tables go into one `tables` part. */
function huffmanParts(streams: { symbols: ArrayLike<number>; alphabet: number }[]): {
  tables: Uint8Array;
  coded: Uint8Array[];
} {
  const tables = new BitWriter(64);
  const coded = streams.map(({ symbols, alphabet }) => {
    const lengths = huffmanCodeLengths(histogram(symbols, alphabet), MAX_CODE_BITS);
    writeCodeLengths(lengths, tables);
    const w = new BitWriter(symbols.length + 16);
    huffmanEncode(symbols, lengths, w);
    return w.finish().bytes;
  });
  return { tables: tables.finish().bytes, coded };
}

// ---------------------------------------------------------------- encode

function checkMask(what: string, mask: Uint8Array, n: number, indexBits: number | undefined): number {
  if (mask.length !== n)
    throw new RangeError(`${what}: mask must have ${n} entries (the shape's size), got ${mask.length}`);
  if (indexBits === undefined) throw new RangeError(`${what}: a mask needs indexBits`);
  checkIndexBits(what, indexBits, MAX_INDEX_BITS);
  return indexBits;
}

function checkQuantized(what: string, q: QuantizedTensor, shape: number[], n: number): Channels {
  if (q.shape.length !== shape.length || q.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`${what}: q.shape must equal the layer shape [${shape}], got [${q.shape}]`);
  }
  if (!Number.isInteger(q.levels) || q.levels < 1 || q.levels > 65536) {
    throw new RangeError(`${what}: q.levels must be an integer in [1, 65536], got ${q.levels}`);
  }
  const minBits = Math.ceil(Math.log2(q.levels));
  if (!Number.isInteger(q.bits) || q.bits < minBits || q.bits > 16) {
    throw new RangeError(
      `${what}: q.bits must be an integer in [${minBits}, 16] for ${q.levels} levels, got ${q.bits}`,
    );
  }
  if (q.codes.length !== n) throw new RangeError(`${what}: q.codes must have ${n} entries, got ${q.codes.length}`);
  let axis = q.channelAxis;
  if (axis !== null) {
    if (axis < 0) axis += shape.length;
    if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
      throw new RangeError(`${what}: q.channelAxis must be null or an axis of [${shape}], got ${q.channelAxis}`);
    }
  }
  const span = q.channelSpan ?? 1;
  if (!Number.isInteger(span) || span < 1 || (axis !== null && axis + span > shape.length)) {
    throw new RangeError(
      `${what}: q.channelSpan must be an integer in [1, rank − channelAxis] for [${shape}], got ${q.channelSpan}`,
    );
  }
  const ch = channelsOf(shape, axis, span);
  if (q.codebook.length !== ch.count * q.levels) {
    throw new RangeError(
      `${what}: q.codebook must have ${ch.count} channels × ${q.levels} levels, got ${q.codebook.length} values`,
    );
  }
  return ch;
}

export function encodeSection(layer: ArtifactLayer): EncodedSection {
  const what = `layer "${layer.name}"`;
  const n = layer.shape.reduce((a, b) => a * b, 1);
  const enc = layer.encoding;
  if (enc.kind === 'float32' || enc.kind === 'sparse-float32') {
    if (enc.values.length !== n)
      throw new RangeError(`${what}: values must have ${n} entries (shape [${layer.shape}]), got ${enc.values.length}`);
  }
  if (enc.kind === 'float32') return { meta: { encoding: 'float32' }, parts: [['values', float32Bytes(enc.values)]] };

  if (enc.kind === 'sparse-float32') {
    const indexBits = checkMask(what, enc.mask, n, enc.indexBits);
    const ri = encodeRelativeIndices(enc.mask, indexBits);
    const kept = new Float32Array(ri.positions.length);
    for (let e = 0; e < kept.length; e++) if (!ri.isFiller[e]) kept[e] = enc.values[ri.positions[e]];
    const huffman = enc.huffman === true;
    const meta: SectionMeta = { encoding: 'sparse-float32', indexBits, entries: kept.length, huffman };
    const values: [string, Uint8Array] = ['values', float32Bytes(kept)];
    if (!huffman) return { meta, parts: [['indices', packBits(ri.gaps, indexBits)], values] };
    const h = huffmanParts([{ symbols: ri.gaps, alphabet: 2 ** indexBits }]);
    return { meta, parts: [['tables', h.tables], ['indices', h.coded[0]], values] };
  }

  const q = enc.q;
  const ch = checkQuantized(what, q, layer.shape, n);
  for (let i = 0; i < n; i++) {
    if (q.codes[i] >= q.levels)
      throw new RangeError(`${what}: q.codes[${i}] = ${q.codes[i]} is not below levels = ${q.levels}`);
  }
  const axis = q.channelAxis === null ? null : (q.channelAxis + layer.shape.length) % layer.shape.length;
  const { storage, floats } = codebookToStore(q, ch.count);
  const huffman = enc.huffman === true;
  let codes: ArrayLike<number> = q.codes;
  let gaps: Uint32Array | null = null;
  let indexBits: number | null = null;
  if (enc.mask !== undefined) {
    indexBits = checkMask(what, enc.mask, n, enc.indexBits);
    const ri = encodeRelativeIndices(enc.mask, indexBits);
    gaps = ri.gaps;
    const entryCodes = new Uint16Array(gaps.length);
    for (let e = 0; e < gaps.length; e++) {
      const pos = ri.positions[e];
      if (!ri.isFiller[e]) {
        entryCodes[e] = q.codes[pos];
        continue;
      }
      const c = channelAt(ch, pos);
      const zero = q.zeroCodes[c];
      if (!(zero >= 0)) {
        throw new Error(
          `${what}: a filler entry at position ${pos} needs channel ${c}'s code for 0, but that channel has none (zeroCode ${zero}); use more indexBits`,
        );
      }
      entryCodes[e] = zero;
    }
    codes = entryCodes;
  }
  const meta: SectionMeta = {
    encoding: 'quantized',
    scheme: q.scheme,
    bits: q.bits,
    levels: q.levels,
    channelAxis: axis,
    ...(axis !== null && (q.channelSpan ?? 1) > 1 ? { channelSpan: q.channelSpan } : {}),
    codebook: storage,
    huffman,
    indexBits,
    entries: gaps === null ? null : gaps.length,
  };
  const parts: [string, Uint8Array][] = [['codebook', float32Bytes(floats)]];
  if (huffman) {
    const streams: { symbols: ArrayLike<number>; alphabet: number }[] =
      gaps === null ? [] : [{ symbols: gaps, alphabet: 2 ** indexBits! }];
    streams.push({ symbols: codes, alphabet: q.levels });
    const h = huffmanParts(streams);
    parts.push(['tables', h.tables]);
    if (gaps !== null) parts.push(['indices', h.coded[0]]);
    parts.push(['codes', h.coded[h.coded.length - 1]]);
  } else {
    if (gaps !== null) parts.push(['indices', packBits(gaps, indexBits!)]);
    parts.push(['codes', packBits(codes, q.bits)]);
  }
  return { meta, parts };
}
