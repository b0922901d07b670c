import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bitsToBytes,
  f32,
  FLOAT,
  kmeans,
  kmeansData,
  sparse,
  sparseData,
  sqzFile,
  symmetric,
  symmetricData,
  table,
  v4,
} from './__tests__/hand_built.js';
import { SqzError } from './errors.js';
import { readSqz, sqzChecksum } from './index.js';

describe('readSqz on hand-built files', () => {
  it('version 1: plain JSON header, a float32 layer', () => {
    const file = sqzFile(1, { model: { name: 'tiny' }, layers: [FLOAT] }, f32(1.5, -2));
    expect(readSqz(file)).toEqual({
      version: 1,
      model: { name: 'tiny' },
      tensors: [{ name: 'bias', shape: [2], values: Float32Array.of(1.5, -2) }],
      layers: [{ name: 'bias', section: 8, parts: { values: 8 } }],
    });
  });

  it('version 4: float32, sparse-float32, quantized params and Huffman-coded full-codebook layers', () => {
    expect(bitsToBytes(table).length).toBe(7);
    const r = readSqz(v4);
    expect(r.version).toBe(4);
    expect(r.model).toBeNull();
    expect(r.tensors.map((t) => [t.name, t.shape, Array.from(t.values)])).toEqual([
      ['bias', [2], [1.5, -2]],
      ['sparse', [8], [0, 0.25, 0, 0, 0, 0, -4, 0]],
      ['sym', [4], [-0.5, 0, 0.5, 0.5]],
      ['km', [2, 2], [0, 10, 2, 30]],
    ]);
    expect(r.layers.map((l) => l.section)).toEqual([8, 13, 5, 41]);
    expect(new DataView(v4.buffer).getUint32(10, true)).toBe(sqzChecksum(v4));
  });

  it('a changed byte anywhere but the CRC field fails the checksum, naming what was stored and found', () => {
    for (const at of [0, 5, 9, 14, 20, v4.length - 1]) {
      const b = v4.slice();
      b[at] ^= 0x10;
      expect(() => readSqz(b), `byte ${at}`).toThrow(SqzError);
      if (at >= 10) expect(() => readSqz(b)).toThrow(/checksum mismatch: the CRC-32 at byte 10 is 0x[0-9a-f]{8}/);
    }
    const b = v4.slice();
    b[12] ^= 1;
    expect(() => readSqz(b)).toThrow(/the file is corrupt or was altered$/);
  });

  it('errors name the offset or field and what was expected', () => {
    const cases: [Uint8Array, RegExp][] = [
      [v4.subarray(0, 9), /expected at least 10 bytes \(magic, version, header length\), found 9/],
      [v4.subarray(0, 12), /expected at least 14 bytes \(magic, version, header length, CRC-32\), found 12/],
      [Uint8Array.of(0x50, 0x4b, 3, 4, ...v4.subarray(4)), /expected magic "SQZ1" at byte 0, found "PK\\x03\\x04"/],
      [sqzFile(5, { layers: [] }, []), /expected format version 1, 2, 3 or 4 at byte 4, found 5/],
      [v4.subarray(0, 30), /expected a \d+-byte header after byte 14, but the file has only 30 bytes — truncated\?/],
      [
        v4.subarray(0, v4.length - 1),
        new RegExp(`header declares ${v4.length} bytes but the file has ${v4.length - 1} — truncated\\?`),
      ],
      [
        sqzFile(4, { layers: [FLOAT] }, f32(1.5, -2, 3)),
        /expected the file to end at byte \d+ .* found 4 trailing bytes/,
      ],
      [sqzFile(4, { layers: [FLOAT, FLOAT] }, f32(1, 2)), /layers\[1\]\.name: expected a unique name, "bias" repeats/],
      [sqzFile(4, { layers: [{ ...FLOAT, shape: [2 ** 20, 2 ** 12] }] }, f32(1, 2)), /at most 2147483647 elements/],
      [
        sqzFile(4, { layers: [{ ...symmetric, byteOffset: 0, levels: 5 }] }, symmetricData),
        /levels: expected at most 2\^bits = 4, found 5/,
      ],
      [
        sqzFile(4, { layers: [{ ...sparse, byteOffset: 0, entries: 2 }] }, sparseData),
        /layer "sparse" \(sparse-float32\): values: expected 8 bytes, found 12/,
      ],
      [
        sqzFile(4, { layers: [{ ...kmeans, byteOffset: 0, levels: 3 }] }, kmeansData),
        /layer "km" \(quantized\): codebook \(full, 2 channels\): expected 24 bytes, found 32 \(section at bytes \[\d+, \d+\)\)/,
      ],
      [
        sqzFile(
          4,
          { layers: [{ ...kmeans, byteOffset: 0, scheme: 'symmetric', codebook: 'full', levels: 2, bits: 1 }] },
          kmeansData,
        ),
        /codebook \(full, 2 channels\): expected 16 bytes, found 32/,
      ],
    ];
    for (const [bytes, message] of cases) {
      expect(() => readSqz(bytes), String(message)).toThrow(message);
      expect(() => readSqz(bytes)).toThrow(SqzError);
    }
  });

  it('a Huffman table whose alphabet is not the one the header fixes is rejected', () => {
    // The same 4-symbol table, but the header says 3 levels (and the codebook has 3 per channel).
    const k = {
      ...kmeans,
      byteOffset: 0,
      levels: 3,
      byteLength: 24 + 7 + 2,
      parts: { codebook: 24, tables: 7, codes: 2 },
    };
    const file = sqzFile(4, { layers: [k] }, [
      ...f32(0, 1, 2, 0, 10, 20),
      ...bitsToBytes(table),
      ...bitsToBytes('100110111'),
    ]);
    expect(() => readSqz(file)).toThrow(
      /layer "km" \(quantized\): tables \(for codes\): readCodeLengths: expected an alphabet of 3 symbols, found 4/,
    );
  });
});

describe('the format sources run in a browser', () => {
  it('import nothing but each other and fflate (no node:*, no tfjs)', () => {
    const dir = new URL('.', import.meta.url);
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources).toContain('container.ts');
    for (const f of sources) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1]);
      for (const s of specifiers) expect(s.startsWith('./') || s === 'fflate', `${f} imports ${s}`).toBe(true);
    }
  });
});
