/**
 * One binary file per compressed model, so "what the model costs" is the length of a file that
 * loads back to exactly the weights that were evaluated — not a formula that forgets an index or a
 * codebook. Layout (all integers little-endian, no alignment or padding anywhere; ARTIFACT.md has
 * the details of each section):
 *
 *   offset 0   4 bytes  magic "SQZ1"
 *   offset 4   u16      format version (4; 1, whose header is not deflated, 2 and 3 still read)
 *   offset 6   u32      H = byte length of the header
 *   offset 10  u32      CRC-32 (IEEE) of every byte of the file except these four
 *   offset 14  H bytes  raw DEFLATE (RFC 1951) of the UTF-8 JSON {model, layers: [{name, shape,
 *                         encoding, …metadata, byteOffset, byteLength, parts: {part: bytes, …}}]}
 *   14 + H     data     the layers' binary sections, byteOffset counted from here
 *
 * A section is its parts concatenated in a fixed order per encoding, each a whole number of bytes
 * (see sections.ts): float32 → values; sparse-float32 → [tables], indices, values; quantized →
 * codebook, [tables], [indices], codes. Offsets are relative to the data area so the header's
 * length does not depend on itself. Sections are unaligned: they are parsed with DataView and
 * BitReader, never mapped as typed arrays, and padding would only blur the byte counts.
 *
 * This file writes; reading is @squash/sqz's `readSqz` (the browser decoder's code), wrapped so
 * that a bad file is an ArtifactError here.
 */
import { deflateRawSync } from 'node:zlib';
import { ConfigError, type WeightTensor } from '@squash/core';
import {
  preambleBytes,
  readSqz,
  SQZ_CRC_OFFSET,
  SQZ_MAGIC,
  SQZ_VERSION,
  SqzError,
  sqzChecksum,
} from '@squash/sqz/format';
import { type ArtifactLayer, encodeSection, type LayerBytes } from './sections.js';

export type { ArtifactLayer, LayerBytes, LayerEncoding } from './sections.js';

export const ARTIFACT_MAGIC = SQZ_MAGIC;
/** The version `writeArtifact` writes (the history is at SQZ_VERSION in @squash/sqz). */
export const ARTIFACT_VERSION = SQZ_VERSION;
const PREAMBLE = preambleBytes(ARTIFACT_VERSION);

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
  view.setUint32(SQZ_CRC_OFFSET, sqzChecksum(bytes), true);
  return {
    bytes,
    headerBytes,
    layers: entries.map((e) => ({ name: e.name, section: e.byteLength, parts: e.parts })),
  };
}

/** `readSqz`, with a bad file as an ArtifactError (a ConfigError: exit code 2) carrying the same message. */
export function readArtifact(bytes: Uint8Array): { model: unknown; tensors: WeightTensor[]; layers: LayerBytes[] } {
  try {
    const { model, tensors, layers } = readSqz(bytes);
    return { model, tensors, layers };
  } catch (e) {
    if (e instanceof SqzError) throw new ArtifactError(e.message, { cause: e });
    throw e;
  }
}
