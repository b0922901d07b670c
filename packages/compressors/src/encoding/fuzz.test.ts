/**
 * Seeded fuzzing of the reader (@squash/sqz's readSqz, behind readArtifact) with artifacts of every
 * encoding, here because this package has the writer. Two kinds of damage:
 *
 * - Raw: bit flips, byte overwrites, truncations, appended bytes, preamble fields set to other
 *   versions or huge lengths. The CRC-32 (or the preamble checks) must catch every one: the only
 *   acceptable outcome is a SqzError — a corrupt file never decodes.
 * - Behind the checksum: section bytes flipped or header fields rewritten (re-deflated), with the
 *   CRC recomputed, so the reader's own validation is what is tested. The outcome must be a
 *   SqzError or a decode consistent with the (altered) header — one tensor per layer entry, with its
 *   name and shape, and every layer the damage did not touch bit-identical to the original.
 *
 * Any other error type fails the test, and tensors are small so that thousands of cases stay fast;
 * declared sizes the bytes cannot back (entries, alphabets, header lengths) must be rejected
 * before anything is allocated for them.
 */
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '@squash/core';
import { readSqz, SqzError, type SqzFile } from '@squash/sqz/format';
import { quantizeTensor } from '../quant/index.js';
import { ArtifactError, type ArtifactLayer, readArtifact, writeArtifact } from './artifact.js';
import { bits, headerOf, makeQuantized, randomMask, withChecksum } from './__tests__/fixtures.js';

function layersOfEveryEncoding(rng: Rng): ArtifactLayer[] {
  const normal = (n: number) => new Float32Array(n).map(() => rng.normal());
  const sparseMask = randomMask(rng, 42, 0.3);
  const qsMask = randomMask(rng, 30, 0.4);
  const dwShape = [3, 3, 2, 2];
  const dwMask = randomMask(rng, 36, 0.5);
  const kmMask = randomMask(rng, 32, 0.25);
  const dw = quantizeTensor(normal(36), dwShape, {
    scheme: 'kmeans',
    bits: 3,
    channelAxis: 2,
    channelSpan: 2,
    mask: dwMask,
  });
  return [
    { name: 'f32', shape: [4, 5], encoding: { kind: 'float32', values: normal(20) } },
    {
      name: 'sparse',
      shape: [6, 7],
      encoding: { kind: 'sparse-float32', values: normal(42), mask: sparseMask, indexBits: 3 },
    },
    {
      name: 'sparse-huffman',
      shape: [6, 7],
      encoding: { kind: 'sparse-float32', values: normal(42), mask: sparseMask, indexBits: 4, huffman: true },
    },
    {
      name: 'q-dense',
      shape: [5, 6],
      encoding: { kind: 'quantized', q: makeQuantized(rng, 'symmetric', [5, 6], null) },
    },
    {
      name: 'q-sparse-channel',
      shape: [5, 6],
      encoding: {
        kind: 'quantized',
        q: makeQuantized(rng, 'asymmetric', [5, 6], -1, qsMask),
        mask: qsMask,
        indexBits: 2,
      },
    },
    {
      name: 'q-span',
      shape: dwShape,
      encoding: { kind: 'quantized', q: dw, mask: dwMask, indexBits: 3, huffman: true },
    },
    {
      name: 'q-kmeans',
      shape: [8, 4],
      encoding: {
        kind: 'quantized',
        q: makeQuantized(rng, 'kmeans', [8, 4], null, kmMask),
        mask: kmMask,
        indexBits: 3,
        huffman: true,
      },
    },
    {
      name: 'q-params-huffman',
      shape: [6, 3],
      encoding: { kind: 'quantized', q: makeQuantized(rng, 'ternary', [6, 3], -1), huffman: true },
    },
    {
      name: 'q-pow2',
      shape: [4, 4],
      encoding: { kind: 'quantized', q: makeQuantized(rng, 'pow2', [4, 4], 0), huffman: true },
    },
  ];
}

interface Subject {
  label: string;
  bytes: Uint8Array;
  headerBytes: number;
  header: { model: unknown; layers: Record<string, any>[] };
  decoded: SqzFile;
}

function subject(label: string, layers: ArtifactLayer[]): Subject {
  const { bytes, headerBytes } = writeArtifact({ format: 'fuzz', label }, layers);
  return { label, bytes, headerBytes, header: headerOf(bytes, headerBytes), decoded: readSqz(bytes) };
}

/** The error a read threw, or null if it decoded; only SqzError may come out. */
function read(bytes: Uint8Array, what: string): { error: SqzError | null; file: SqzFile | null } {
  try {
    return { error: null, file: readSqz(bytes) };
  } catch (e) {
    if (!(e instanceof SqzError))
      throw new Error(`${what}: threw ${(e as Error)?.constructor?.name}, not SqzError`, { cause: e });
    return { error: e, file: null };
  }
}

/** Header JSON re-deflated after the preamble, the sections appended, the CRC recomputed. */
function rebuild(s: Subject, header: unknown, data = s.bytes.subarray(s.headerBytes)): Uint8Array {
  const json = deflateRawSync(JSON.stringify(header));
  const out = new Uint8Array(14 + json.length + data.length);
  out.set(s.bytes.subarray(0, 14));
  new DataView(out.buffer).setUint32(6, json.length, true);
  out.set(json, 14);
  out.set(data, 14 + json.length);
  return withChecksum(out);
}

/**
 * A decode of an altered file must match its header: a tensor per entry, named and shaped as the
 * entry says; an entry identical to the original's whose section bytes are untouched decodes to
 * the original tensor bit for bit.
 */
function expectConsistent(
  s: Subject,
  file: SqzFile,
  header: { layers: Record<string, any>[] },
  untouched: (entry: Record<string, any>) => boolean,
  what: string,
): void {
  expect(file.tensors.length, what).toBe(header.layers.length);
  header.layers.forEach((entry, i) => {
    const t = file.tensors[i];
    expect(t.name, what).toBe(entry.name);
    expect(t.shape, what).toEqual(entry.shape);
    expect(t.values.length, what).toBe(entry.shape.reduce((a: number, b: number) => a * b, 1));
    const j = s.header.layers.findIndex((o) => JSON.stringify(o) === JSON.stringify(entry));
    if (j >= 0 && untouched(entry))
      expect(bits(t.values), `${what}: ${entry.name}`).toEqual(bits(s.decoded.tensors[j].values));
  });
}

/** Replacement values for a header field: wrong types, edge integers, and sizes nothing could back. */
const VALUES: unknown[] = [
  -1,
  0,
  1,
  2,
  3,
  7,
  15,
  16,
  17,
  31,
  32,
  33,
  255,
  65535,
  65536,
  65537,
  2 ** 24,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  1e300,
  0.5,
  -0,
  null,
  true,
  false,
  'x',
  'float32',
  'quantized',
  'sparse-float32',
  'kmeans',
  'params',
  'full',
  [],
  {},
  [0],
  [2 ** 31 - 1],
  [2 ** 16, 2 ** 16],
  [2 ** 20, 2 ** 11],
  [1, 1, 1, 1, 1],
  [3, -1],
  { values: 2 ** 40 },
];
const FIELDS = [
  'name',
  'shape',
  'encoding',
  'huffman',
  'indexBits',
  'entries',
  'scheme',
  'bits',
  'levels',
  'channelAxis',
  'channelSpan',
  'codebook',
  'byteOffset',
  'byteLength',
  'parts',
];

function tamperHeader(rng: Rng, s: Subject): { header: any; changed: string } {
  const header = structuredClone(s.header) as any;
  const layers = header.layers as Record<string, any>[];
  const i = rng.int(layers.length);
  const entry = layers[i];
  const pick = rng.int(10);
  const value = VALUES[rng.int(VALUES.length)];
  if (pick === 0 && Array.isArray(entry.shape) && entry.shape.length > 0) {
    const d = rng.int(entry.shape.length);
    entry.shape[d] = rng.next() < 0.5 ? value : entry.shape[d] + (rng.int(5) - 2);
    return { header, changed: `layers[${i}].shape[${d}]` };
  }
  if (pick === 1) {
    const part = Object.keys(entry.parts)[rng.int(Object.keys(entry.parts).length)];
    entry.parts[part] = rng.next() < 0.5 ? value : entry.parts[part] + (rng.int(5) - 2);
    return { header, changed: `layers[${i}].parts.${part}` };
  }
  if (pick === 2) {
    const edits = [
      () => layers.reverse(),
      () => layers.push(structuredClone(entry)),
      () => layers.splice(i, 1),
      () => {
        header.layers = { 0: entry };
      },
      () => {
        header.model = { deep: [[[[[[[[]]]]]]]] };
      },
      () => {
        const j = rng.int(layers.length);
        [entry.byteOffset, layers[j].byteOffset] = [layers[j].byteOffset, entry.byteOffset];
      },
    ];
    const e = rng.int(edits.length);
    edits[e]();
    return { header, changed: `whole header (edit ${e})` };
  }
  const field = FIELDS[rng.int(FIELDS.length)];
  if (rng.next() < 0.15) delete entry[field];
  else entry[field] = typeof entry[field] === 'number' && rng.next() < 0.4 ? entry[field] + (rng.int(5) - 2) : value;
  return { header, changed: `layers[${i}].${field}` };
}

describe('fuzz: damaged artifacts of every encoding', () => {
  const rng = createRng(16);
  const all = layersOfEveryEncoding(rng);
  const subjects = [subject('all', all), ...all.map((l) => subject(l.name, [l]))];

  it('the subjects round-trip and cover every encoding', () => {
    const kinds = new Set(
      subjects[0].header.layers.map((l) => `${l.encoding}/${l.huffman}/${l.codebook}/${l.channelSpan}`),
    );
    expect(kinds.size).toBeGreaterThanOrEqual(7);
    expect(subjects[0].header.layers.find((l) => l.name === 'q-span')).toMatchObject({
      channelSpan: 2,
      codebook: 'full',
    });
    expect(subjects[0].header.layers.find((l) => l.name === 'q-pow2')).toMatchObject({
      codebook: 'params',
      huffman: true,
    });
  });

  it('raw damage (flips, overwrites, truncation, appended bytes, preamble fields) is always a SqzError', () => {
    let cases = 0;
    for (const s of subjects) {
      const n = s.bytes.length;
      const mutants: [string, Uint8Array][] = [];
      for (let t = 0; t < 200; t++) {
        const b = s.bytes.slice();
        const at = rng.int(n);
        b[at] ^= 1 << rng.int(8);
        mutants.push([`flip at ${at}`, b]);
      }
      for (let t = 0; t < 80; t++) {
        const b = s.bytes.slice();
        const at = rng.int(n);
        const k = 1 + rng.int(Math.min(4, n - at));
        for (let j = 0; j < k; j++) b[at + j] = (b[at + j] + 1 + rng.int(255)) & 0xff;
        mutants.push([`${k} bytes overwritten at ${at}`, b]);
      }
      for (let len = 0; len < n; len += len < 40 ? 1 : 1 + rng.int(9))
        mutants.push([`truncated to ${len}`, s.bytes.slice(0, len)]);
      for (let t = 0; t < 20; t++) {
        const extra = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
        mutants.push([`${extra.length} bytes appended`, Uint8Array.from([...s.bytes, ...extra])]);
      }
      for (const version of [0, 1, 2, 3, 5, 0xffff]) {
        const b = s.bytes.slice();
        new DataView(b.buffer).setUint16(4, version, true);
        mutants.push([`version ${version}`, b]);
      }
      const h = s.headerBytes - 14;
      for (const length of [0, 1, h - 1, h + 1, n, 2 ** 31, 2 ** 32 - 1]) {
        const b = s.bytes.slice();
        new DataView(b.buffer).setUint32(6, length, true);
        mutants.push([`header length ${length}`, b]);
      }
      for (const [what, b] of mutants) {
        const r = read(b, `${s.label}: ${what}`);
        expect(r.error, `${s.label}: ${what} decoded`).not.toBeNull();
        cases++;
      }
      // readArtifact turns each into its ArtifactError (exit code 2), message unchanged.
      const [what, b] = mutants[rng.int(mutants.length)];
      expect(() => readArtifact(b), what).toThrow(ArtifactError);
      expect(() => readArtifact(b)).toThrow(read(b, what).error!.message);
    }
    expect(cases).toBeGreaterThan(3000);
  });

  it('damage behind a recomputed checksum: section bits and header fields — a SqzError or a consistent decode', () => {
    let cases = 0;
    let decoded = 0;
    for (const s of subjects) {
      const dataStart = s.headerBytes;
      for (let t = 0; t < 150; t++) {
        const b = s.bytes.slice();
        const at = dataStart + rng.int(b.length - dataStart);
        b[at] ^= 1 << rng.int(8);
        const what = `${s.label}: section flip at ${at} (checksum fixed)`;
        const r = read(withChecksum(b), what);
        cases++;
        if (r.file === null) continue;
        decoded++;
        const outside = (e: Record<string, any>) =>
          at < dataStart + e.byteOffset || at >= dataStart + e.byteOffset + e.byteLength;
        expectConsistent(s, r.file, s.header, outside, what);
      }
      for (let t = 0; t < 150; t++) {
        const { header, changed } = tamperHeader(rng, s);
        const what = `${s.label}: ${changed} rewritten (checksum fixed)`;
        const r = read(rebuild(s, header), what);
        cases++;
        if (r.file === null) continue;
        decoded++;
        expectConsistent(s, r.file, header, () => true, what);
      }
    }
    expect(cases).toBeGreaterThan(2500);
    // Both outcomes occur: the test is not only exercising the first check that fails.
    expect(decoded).toBeGreaterThan(100);
    expect(decoded).toBeLessThan(cases - 1000);
  });
});
