/**
 * One binary file per compressed model, so "what the model costs" is the length of a file that
 * loads back to exactly the weights that were evaluated — not a formula that forgets an index or a
 * codebook. Layout (all integers little-endian, no alignment or padding anywhere; ARTIFACT.md has
 * the details of each section):
 *
 *   offset 0   4 bytes  magic "SQZ1"
 *   offset 4   u16      format version (3; versions 1, whose header is not deflated, and 2 still read)
 *   offset 6   u32      H = byte length of the header
 *   offset 10  H bytes  raw DEFLATE (RFC 1951) of the UTF-8 JSON {model, layers: [{name, shape,
 *                         encoding, …metadata, byteOffset, byteLength, parts: {part: bytes, …}}]}
 *   10 + H     data     the layers' binary sections, byteOffset counted from here
 *
 * A section is its parts concatenated in a fixed order per encoding, each a whole number of bytes
 * (see sections.ts): float32 → values; sparse-float32 → [tables], indices, values; quantized →
 * codebook, [tables], [indices], codes. Offsets are relative to the data area so the header's
 * length does not depend on itself. Sections are unaligned: they are parsed with DataView and
 * BitReader, never mapped as typed arrays, and padding would only blur the byte counts.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ConfigError, type WeightTensor } from '@squash/core';
import { QUANT_SCHEMES } from '../quantized_tensor.js';
import { PARAMS_SCHEMES } from './codebook.js';
import {
  type ArtifactLayer,
  type EncodingKind,
  type LayerBytes,
  type SectionMeta,
  decodeSection,
  encodeSection,
  MAX_INDEX_BITS,
  PART_ORDER,
} from './sections.js';

export type { ArtifactLayer, LayerBytes, LayerEncoding } from './sections.js';

export const ARTIFACT_MAGIC = 'SQZ1';
/**
 * 3: a quantized layer may index its channels by several axes (`channelSpan`: a depthwise
 * kernel's C·M output channels). 2: the JSON header is raw-DEFLATEd (LeNet-300-100's 1.5 KB header
 * becomes ~0.5 KB: 4 % of a Deep Compression artifact, which the paper's 27 KB does not have room
 * for). 1: plain JSON.
 */
export const ARTIFACT_VERSION = 3;
const READABLE_VERSIONS = [1, 2, 3];
const PREAMBLE = 10;
/** Largest tensor a header may declare (2^31 − 1 elements), so a corrupt shape cannot ask for 100 GB. */
const MAX_ELEMENTS = 2 ** 31 - 1;

/** A file that is not an artifact, or a corrupted or truncated one. Exit code 2, like bad data files. */
export class ArtifactError extends ConfigError {}

function checkShape(what: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`${what}: shape must be an array of integers ≥ 0, got ${JSON.stringify(shape)}`);
  }
  return shape;
}

export function writeArtifact(
  model: unknown,
  layers: ArtifactLayer[],
): { bytes: Uint8Array; layers: LayerBytes[]; headerBytes: number } {
  const names = new Set<string>();
  const sections = layers.map((layer) => {
    if (typeof layer.name !== 'string')
      throw new TypeError(`writeArtifact: layer names must be strings, got ${typeof layer.name}`);
    if (names.has(layer.name))
      throw new RangeError(`writeArtifact: layer names must be unique, "${layer.name}" appears twice`);
    names.add(layer.name);
    checkShape(`layer "${layer.name}"`, layer.shape);
    return encodeSection(layer);
  });
  let offset = 0;
  const entries = sections.map(({ meta, parts }, i) => {
    const byteLength = parts.reduce((a, [, p]) => a + p.length, 0);
    const entry = {
      name: layers[i].name,
      shape: layers[i].shape,
      ...meta,
      byteOffset: offset,
      byteLength,
      parts: Object.fromEntries(parts.map(([name, p]) => [name, p.length])) as Record<string, number>,
    };
    offset += byteLength;
    return entry;
  });
  let json: string | undefined;
  try {
    json = JSON.stringify({ model: model ?? null, layers: entries });
  } catch (e) {
    throw new TypeError(`writeArtifact: model must be JSON-serialisable (${(e as Error).message})`, { cause: e });
  }
  const header = new Uint8Array(deflateRawSync(new TextEncoder().encode(json), { level: 9 }));
  const headerBytes = PREAMBLE + header.length;
  const bytes = new Uint8Array(headerBytes + offset);
  bytes.set(new TextEncoder().encode(ARTIFACT_MAGIC), 0);
  const view = new DataView(bytes.buffer);
  view.setUint16(4, ARTIFACT_VERSION, true);
  view.setUint32(6, header.length, true);
  bytes.set(header, PREAMBLE);
  let at = headerBytes;
  for (const { parts } of sections) {
    for (const [, p] of parts) {
      bytes.set(p, at);
      at += p.length;
    }
  }
  return {
    bytes,
    headerBytes,
    layers: entries.map((e) => ({ name: e.name, section: e.byteLength, parts: e.parts })),
  };
}

// ---------------------------------------------------------------- reading

const printable = (b: Uint8Array): string =>
  Array.from(b, (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join(
    '',
  );

function expectInt(v: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ArtifactError(
      `artifact header: ${what}: expected an integer in [${min}, ${max}], found ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function expectOneOf<T>(v: unknown, what: string, options: readonly T[]): T {
  if (!options.includes(v as T)) {
    throw new ArtifactError(
      `artifact header: ${what}: expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, found ${JSON.stringify(v)}`,
    );
  }
  return v as T;
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
      throw new ArtifactError(
        `artifact header: ${where}.channelSpan: expected none (${why}), found ${JSON.stringify(e.channelSpan)}`,
      );
    channelSpan = expectInt(e.channelSpan, `${where}.channelSpan`, 2, rank - channelAxis!);
  }
  return {
    encoding,
    huffman,
    scheme,
    bits: expectInt(e.bits, `${where}.bits`, 0, 16),
    levels: expectInt(e.levels, `${where}.levels`, 1, 65536),
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

function parseHeader(bytes: Uint8Array): {
  model: unknown;
  layers: Record<string, unknown>[];
  dataStart: number;
  version: number;
} {
  if (bytes.length < PREAMBLE) {
    throw new ArtifactError(
      `artifact: expected at least ${PREAMBLE} bytes (magic, version, header length), found ${bytes.length}`,
    );
  }
  const magic = bytes.subarray(0, 4);
  if (printable(magic) !== ARTIFACT_MAGIC) {
    throw new ArtifactError(
      `artifact: expected magic "${ARTIFACT_MAGIC}" at byte 0, found "${printable(magic)}" — not a Squash artifact`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (!READABLE_VERSIONS.includes(version)) {
    throw new ArtifactError(
      `artifact: expected format version ${READABLE_VERSIONS.slice(0, -1).join(', ')} or ${ARTIFACT_VERSION}, found ${version}`,
    );
  }
  const length = view.getUint32(6, true);
  if (PREAMBLE + length > bytes.length) {
    throw new ArtifactError(
      `artifact: expected a ${length}-byte header after byte ${PREAMBLE}, but the file has only ${bytes.length} bytes — truncated?`,
    );
  }
  let header: unknown;
  try {
    const raw = bytes.subarray(PREAMBLE, PREAMBLE + length);
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(version === 1 ? raw : inflateRawSync(raw)));
  } catch (e) {
    throw new ArtifactError(
      `artifact: expected a ${version === 1 ? '' : 'DEFLATEd '}UTF-8 JSON header, found invalid data (${(e as Error).message})`,
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
    throw new ArtifactError('artifact header: expected an object with a "layers" array of objects');
  }
  return {
    model: h.model ?? null,
    layers: h.layers as Record<string, unknown>[],
    dataStart: PREAMBLE + length,
    version,
  };
}

export function readArtifact(bytes: Uint8Array): { model: unknown; tensors: WeightTensor[]; layers: LayerBytes[] } {
  const { model, layers, dataStart, version } = parseHeader(bytes);
  const tensors: WeightTensor[] = [];
  const sizes: LayerBytes[] = [];
  let dataEnd = dataStart;
  layers.forEach((e, i) => {
    const where = `layers[${i}]`;
    if (typeof e.name !== 'string')
      throw new ArtifactError(`artifact header: ${where}.name: expected a string, found ${JSON.stringify(e.name)}`);
    const name = e.name;
    let shape: number[];
    try {
      shape = checkShape(where, e.shape);
    } catch (err) {
      throw new ArtifactError(`artifact header: ${(err as Error).message}`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (n > MAX_ELEMENTS)
      throw new ArtifactError(`artifact header: ${where}.shape: expected at most ${MAX_ELEMENTS} elements, found ${n}`);
    const meta = parseMeta(e, where, shape.length, version);
    const offset = expectInt(e.byteOffset, `${where}.byteOffset`, 0);
    const length = expectInt(e.byteLength, `${where}.byteLength`, 0);
    const start = dataStart + offset;
    if (start + length > bytes.length) {
      throw new ArtifactError(
        `artifact: layer "${name}": expected its ${length}-byte section at bytes [${start}, ${start + length}), but the file ends at byte ${bytes.length} — truncated?`,
      );
    }
    dataEnd = Math.max(dataEnd, start + length);
    const declared = (typeof e.parts === 'object' && e.parts !== null ? e.parts : {}) as Record<string, unknown>;
    const parts = new Map<string, Uint8Array>();
    const partSizes: Record<string, number> = {};
    let at = start;
    for (const part of PART_ORDER[meta.encoding]) {
      if (declared[part] === undefined) continue;
      const size = expectInt(declared[part], `${where}.parts.${part}`, 0);
      parts.set(part, bytes.subarray(at, at + size));
      partSizes[part] = size;
      at += size;
    }
    if (at !== start + length) {
      throw new ArtifactError(
        `artifact header: ${where}: expected its parts to add up to byteLength ${length}, found ${at - start}`,
      );
    }
    try {
      tensors.push({ name, shape, values: decodeSection(meta, shape, parts) });
    } catch (err) {
      throw new ArtifactError(`artifact: layer "${name}" (${meta.encoding}): ${(err as Error).message}`, {
        cause: err,
      });
    }
    sizes.push({ name, section: length, parts: partSizes });
  });
  if (dataEnd !== bytes.length) {
    throw new ArtifactError(
      `artifact: expected the file to end at byte ${dataEnd} after the last section, found ${bytes.length - dataEnd} trailing bytes`,
    );
  }
  return { model, tensors, layers: sizes };
}
