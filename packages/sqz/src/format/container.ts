/**
 * The `.sqz` container, read side. One binary file per compressed model; all integers
 * little-endian, no alignment or padding anywhere (ARTIFACT.md in @squash/compressors, which has
 * the writer, documents every byte):
 *
 *   offset 0   4 bytes  magic "SQZ1"
 *   offset 4   u16      format version (4; 1, 2 and 3 still read)
 *   offset 6   u32      H = byte length of the header
 *   offset 10  u32      CRC-32 (IEEE) of every byte of the file except these four (version 4 only)
 *   offset 14  H bytes  raw DEFLATE (RFC 1951; plain in version 1) of the UTF-8 JSON
 *                         {model, layers: [{name, shape, encoding, …metadata, byteOffset, byteLength, parts}]}
 *   14 + H     data     the layers' binary sections, byteOffset counted from here
 *
 * Versions 1–3 have no CRC: their header starts at offset 10. Without the checksum a flipped bit
 * in a float or a codebook decodes to a model that is silently wrong; with it, any change to the
 * file is an error before anything is decoded.
 */
import { inflateSync } from 'fflate';
import { PARAMS_SCHEMES, QUANT_SCHEMES } from './codebook.js';
import { crc32 } from './crc32.js';
import { SqzError } from './errors.js';
import { type EncodingKind, MAX_INDEX_BITS, PART_ORDER, type SectionMeta, decodeSection } from './sections.js';

export const SQZ_MAGIC = 'SQZ1';
/**
 * 4: a CRC-32 of the file in the preamble. 3: a quantized layer may index its channels by several
 * axes (`channelSpan`: a depthwise kernel's C·M output channels). 2: the JSON header is
 * raw-DEFLATEd (LeNet-300-100's 1.5 KB header becomes ~0.5 KB). 1: plain JSON.
 */
export const SQZ_VERSION = 4;
export const SQZ_READABLE_VERSIONS: readonly number[] = [1, 2, 3, 4];
/** Where the CRC-32 sits in a version 4 file. */
export const SQZ_CRC_OFFSET = 10;

/** Bytes before the header: magic, version, header length, and from version 4 on the CRC-32. */
export function preambleBytes(version: number): number {
  return version >= 4 ? 14 : 10;
}

/** Largest tensor a header may declare (2^31 − 1 elements), so a corrupt shape cannot ask for 100 GB. */
const MAX_ELEMENTS = 2 ** 31 - 1;

/** The CRC-32 a version 4 file stores: over every byte except the four at SQZ_CRC_OFFSET. */
export function sqzChecksum(bytes: Uint8Array): number {
  return crc32(bytes.subarray(SQZ_CRC_OFFSET + 4), crc32(bytes.subarray(0, SQZ_CRC_OFFSET)));
}

export interface SqzTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Sizes in bytes: the whole section, and each of its parts (indices, codes, codebook, tables, values). */
export interface SqzLayerBytes {
  name: string;
  section: number;
  parts: Record<string, number>;
}

export interface SqzFile {
  version: number;
  /** Whatever the writer put there (Squash: {format: 'squash-model', spec, inputShape, activations}); null if none. */
  model: unknown;
  tensors: SqzTensor[];
  layers: SqzLayerBytes[];
}

const printable = (b: Uint8Array): string =>
  Array.from(b, (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join(
    '',
  );

const hex = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

/** A header value for a message: JSON, cut short, so a corrupt 10^6-element array cannot flood it. */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function expectInt(v: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new SqzError(`sqz header: ${what}: expected an integer in [${min}, ${max}], found ${show(v)}`);
  }
  return v;
}

function expectOneOf<T>(v: unknown, what: string, options: readonly T[]): T {
  if (!options.includes(v as T)) {
    throw new SqzError(
      `sqz header: ${what}: expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, found ${show(v)}`,
    );
  }
  return v as T;
}

function expectShape(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new SqzError(`sqz header: ${what}: expected an array of integers ≥ 0, found ${show(v)}`);
  }
  let n = 1;
  for (const d of v) n *= d;
  if (n > MAX_ELEMENTS)
    throw new SqzError(`sqz header: ${what}: expected at most ${MAX_ELEMENTS} elements, found ${n}`);
  return v;
}

/** Validates one header entry's metadata, so decodeSection can trust its types and ranges. */
function parseMeta(e: Record<string, unknown>, where: string, rank: number, version: number): SectionMeta {
  const encoding = expectOneOf<EncodingKind>(e.encoding, `${where}.encoding`, [
    'float32',
    'sparse-float32',
    'quantized',
  ]);
  if (encoding === 'float32') return { encoding };
  const huffman = expectOneOf(e.huffman, `${where}.huffman`, [true, false]);
  if (encoding === 'sparse-float32') {
    return {
      encoding,
      huffman,
      indexBits: expectInt(e.indexBits, `${where}.indexBits`, 1, MAX_INDEX_BITS),
      entries: expectInt(e.entries, `${where}.entries`, 0),
    };
  }
  const sparse = e.indexBits !== null;
  const scheme = expectOneOf(e.scheme, `${where}.scheme`, QUANT_SCHEMES);
  const channelAxis = e.channelAxis === null ? null : expectInt(e.channelAxis, `${where}.channelAxis`, 0, rank - 1);
  // Absent: one axis. Versions before 3 have no spans; a span needs axes to run over.
  let channelSpan: number | undefined;
  if (e.channelSpan !== undefined) {
    const why =
      version < 3
        ? `a version ${version} file has none`
        : channelAxis === null
          ? 'there is no channelAxis'
          : channelAxis === rank - 1
            ? `channelAxis ${channelAxis} is the last axis`
            : undefined;
    if (why)
      throw new SqzError(`sqz header: ${where}.channelSpan: expected none (${why}), found ${show(e.channelSpan)}`);
    channelSpan = expectInt(e.channelSpan, `${where}.channelSpan`, 2, rank - channelAxis!);
  }
  const bits = expectInt(e.bits, `${where}.bits`, 0, 16);
  const levels = expectInt(e.levels, `${where}.levels`, 1, 65536);
  // Packed codes are `bits` wide, so the writer never has more levels than they can name.
  if (levels > 2 ** bits)
    throw new SqzError(`sqz header: ${where}.levels: expected at most 2^bits = ${2 ** bits}, found ${levels}`);
  return {
    encoding,
    huffman,
    scheme,
    bits,
    levels,
    channelAxis,
    ...(channelSpan === undefined ? {} : { channelSpan }),
    codebook: expectOneOf(
      e.codebook,
      `${where}.codebook`,
      PARAMS_SCHEMES.includes(scheme) ? (['params', 'full'] as const) : (['full'] as const),
    ),
    indexBits: sparse ? expectInt(e.indexBits, `${where}.indexBits`, 1, MAX_INDEX_BITS) : null,
    entries: sparse ? expectInt(e.entries, `${where}.entries`, 0) : null,
  };
}

interface Preamble {
  version: number;
  headerStart: number;
  headerEnd: number;
}

function readPreamble(bytes: Uint8Array): Preamble {
  if (bytes.length < 10) {
    throw new SqzError(`sqz: expected at least 10 bytes (magic, version, header length), found ${bytes.length}`);
  }
  const magic = bytes.subarray(0, 4);
  if (printable(magic) !== SQZ_MAGIC) {
    throw new SqzError(
      `sqz: expected magic "${SQZ_MAGIC}" at byte 0, found "${printable(magic)}" — not a Squash .sqz file`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (!SQZ_READABLE_VERSIONS.includes(version)) {
    throw new SqzError(
      `sqz: expected format version ${SQZ_READABLE_VERSIONS.slice(0, -1).join(', ')} or ${SQZ_VERSION} at byte 4, found ${version}`,
    );
  }
  const headerStart = preambleBytes(version);
  if (bytes.length < headerStart) {
    throw new SqzError(
      `sqz: expected at least ${headerStart} bytes (magic, version, header length, CRC-32), found ${bytes.length}`,
    );
  }
  const length = view.getUint32(6, true);
  if (headerStart + length > bytes.length) {
    throw new SqzError(
      `sqz: expected a ${length}-byte header after byte ${headerStart}, but the file has only ${bytes.length} bytes — truncated?`,
    );
  }
  return { version, headerStart, headerEnd: headerStart + length };
}

function parseHeader(bytes: Uint8Array, p: Preamble): { model: unknown; layers: Record<string, unknown>[] } {
  let header: unknown;
  try {
    const raw = bytes.subarray(p.headerStart, p.headerEnd);
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(p.version === 1 ? raw : inflateSync(raw)));
  } catch (e) {
    throw new SqzError(
      `sqz: expected a ${p.version === 1 ? '' : 'DEFLATEd '}UTF-8 JSON header, found invalid data at bytes [${p.headerStart}, ${p.headerEnd}) (${(e as Error).message})`,
      { cause: e },
    );
  }
  const h = header as { model?: unknown; layers?: unknown };
  if (
    typeof h !== 'object' ||
    h === null ||
    !Array.isArray(h.layers) ||
    !h.layers.every((l) => typeof l === 'object' && l !== null)
  ) {
    throw new SqzError('sqz header: expected an object with a "layers" array of objects');
  }
  return { model: h.model ?? null, layers: h.layers as Record<string, unknown>[] };
}

/**
 * Throws on a version 4 file whose CRC-32 does not match its bytes. When the header still parses
 * and declares a different file length, says so: a truncated download is the common cause.
 */
function verifyChecksum(bytes: Uint8Array, p: Preamble): void {
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(SQZ_CRC_OFFSET, true);
  const actual = sqzChecksum(bytes);
  if (stored === actual) return;
  let declared: number | undefined;
  try {
    const { layers } = parseHeader(bytes, p);
    declared = p.headerEnd;
    for (const l of layers) {
      if (Number.isSafeInteger(l.byteOffset) && Number.isSafeInteger(l.byteLength))
        declared = Math.max(declared, p.headerEnd + (l.byteOffset as number) + (l.byteLength as number));
    }
  } catch {
    // The header is damaged too; the checksum message says all there is to say.
  }
  const length =
    declared === undefined || declared === bytes.length
      ? ''
      : `; the header declares ${declared} bytes but the file has ${bytes.length}${declared > bytes.length ? ' — truncated?' : ''}`;
  throw new SqzError(
    `sqz: checksum mismatch: the CRC-32 at byte ${SQZ_CRC_OFFSET} is ${hex(stored)} but the file's bytes give ${hex(actual)} — the file is corrupt or was altered${length}`,
  );
}

/**
 * Every tensor of a `.sqz` file, decoded to float32 exactly as it was evaluated. Throws SqzError on
 * anything malformed, corrupt or truncated, naming the byte offset or header field.
 */
export function readSqz(bytes: Uint8Array): SqzFile {
  const p = readPreamble(bytes);
  if (p.version >= 4) verifyChecksum(bytes, p);
  const { model, layers } = parseHeader(bytes, p);
  const dataStart = p.headerEnd;
  const tensors: SqzTensor[] = [];
  const sizes: SqzLayerBytes[] = [];
  const names = new Set<string>();
  let dataEnd = dataStart;
  for (let i = 0; i < layers.length; i++) {
    const e = layers[i];
    const where = `layers[${i}]`;
    if (typeof e.name !== 'string')
      throw new SqzError(`sqz header: ${where}.name: expected a string, found ${show(e.name)}`);
    const name = e.name;
    if (names.has(name)) throw new SqzError(`sqz header: ${where}.name: expected a unique name, ${show(name)} repeats`);
    names.add(name);
    const shape = expectShape(e.shape, `${where}.shape`);
    const meta = parseMeta(e, where, shape.length, p.version);
    const offset = expectInt(e.byteOffset, `${where}.byteOffset`, 0);
    const length = expectInt(e.byteLength, `${where}.byteLength`, 0);
    const start = dataStart + offset;
    if (start + length > bytes.length) {
      throw new SqzError(
        `sqz: layer "${name}": expected its ${length}-byte section at bytes [${start}, ${start + length}), but the file ends at byte ${bytes.length} — truncated?`,
      );
    }
    dataEnd = Math.max(dataEnd, start + length);
    const declared = (typeof e.parts === 'object' && e.parts !== null ? e.parts : {}) as Record<string, unknown>;
    const parts = new Map<string, Uint8Array>();
    const partSizes: Record<string, number> = {};
    let at = start;
    for (const part of PART_ORDER[meta.encoding]) {
      if (declared[part] === undefined) continue;
      const size = expectInt(declared[part], `${where}.parts.${part}`, 0, length);
      parts.set(part, bytes.subarray(at, at + size));
      partSizes[part] = size;
      at += size;
    }
    if (at !== start + length) {
      throw new SqzError(
        `sqz header: ${where}: expected its parts to add up to byteLength ${length}, found ${at - start}`,
      );
    }
    try {
      tensors.push({ name, shape, values: decodeSection(meta, shape, parts) });
    } catch (err) {
      // RangeError: bytes that contradict the header (or a tensor too large to allocate). Anything
      // else is a bug in this decoder and must not pass for a bad file.
      if (!(err instanceof RangeError)) throw err;
      throw new SqzError(
        `sqz: layer "${name}" (${meta.encoding}): ${err.message} (section at bytes [${start}, ${start + length}))`,
        { cause: err },
      );
    }
    sizes.push({ name, section: length, parts: partSizes });
  }
  if (dataEnd !== bytes.length) {
    throw new SqzError(
      `sqz: expected the file to end at byte ${dataEnd} after the last section, found ${bytes.length - dataEnd} trailing bytes`,
    );
  }
  return { version: p.version, model, tensors, layers: sizes };
}
