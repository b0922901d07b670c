import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ConfigError, createRng } from '@squash/core';
import { dequantize as quantDequantize, quantizeTensor } from '../quant/index.js';
import type { QuantizedTensor } from '../quantized_tensor.js';
import { ArtifactError, type ArtifactLayer, readArtifact, writeArtifact } from './artifact.js';
import {
  SCHEMES,
  bits,
  dequantize,
  firstBitDifference,
  headerOf,
  makeQuantized,
  randomMask,
  withChecksum,
} from './__tests__/fixtures.js';

const MODEL = { kind: 'mlp', layers: [784, 300, 100, 10], note: 'ünïcødé' };

function roundTrip(layers: ArtifactLayer[]) {
  const written = writeArtifact(MODEL, layers);
  const read = readArtifact(written.bytes);
  expect(read.model).toEqual(MODEL);
  expect(read.layers).toEqual(written.layers);
  expect(written.headerBytes + written.layers.reduce((a, l) => a + l.section, 0)).toBe(written.bytes.length);
  for (const l of written.layers) expect(Object.values(l.parts).reduce((a, b) => a + b, 0)).toBe(l.section);
  expect(read.tensors.map((t) => [t.name, t.shape])).toEqual(layers.map((l) => [l.name, l.shape]));
  return { written, read, header: headerOf(written.bytes, written.headerBytes) };
}

describe('writeArtifact / readArtifact round trips', () => {
  const rng = createRng(31);

  it('float32 and sparse-float32 (packed and Huffman-coded gaps), bit-exact', () => {
    const w = new Float32Array(3000).map(() => rng.normal());
    w[5] = -0;
    const mask = randomMask(rng, w.length, 0.1);
    mask[0] = 1;
    mask[2999] = 1;
    const pruned = w.map((v, i) => (mask[i] ? v : 0));
    const { read, written } = roundTrip([
      { name: 'bias', shape: [3000], encoding: { kind: 'float32', values: w } },
      { name: 'sparse', shape: [30, 100], encoding: { kind: 'sparse-float32', values: w, mask, indexBits: 3 } },
      {
        name: 'sparse-h',
        shape: [30, 100],
        encoding: { kind: 'sparse-float32', values: w, mask, indexBits: 5, huffman: true },
      },
      { name: 'empty', shape: [0], encoding: { kind: 'float32', values: new Float32Array(0) } },
      {
        name: 'none-kept',
        shape: [7],
        encoding: { kind: 'sparse-float32', values: new Float32Array(7), mask: new Uint8Array(7), indexBits: 2 },
      },
    ]);
    expect(bits(read.tensors[0].values)).toEqual(bits(w));
    expect(bits(read.tensors[1].values)).toEqual(bits(pruned));
    expect(bits(read.tensors[2].values)).toEqual(bits(pruned));
    expect(read.tensors[4].values).toEqual(new Float32Array(7));
    expect(written.layers[0]).toEqual({ name: 'bias', section: 12000, parts: { values: 12000 } });
    expect(Object.keys(written.layers[1].parts)).toEqual(['indices', 'values']);
    expect(Object.keys(written.layers[2].parts)).toEqual(['tables', 'indices', 'values']);
  });

  for (const scheme of SCHEMES) {
    it(`quantized ${scheme}: dense/sparse × Huffman off/on × per-tensor/per-channel, bit-exact`, () => {
      const layers: ArtifactLayer[] = [];
      const expected: Float32Array[] = [];
      for (const [shape, axis] of [
        [[40, 30], null],
        [[40, 30], -1],
        [[3, 3, 4, 5], 2],
      ] as [number[], number | null][]) {
        const n = shape.reduce((a, b) => a * b, 1);
        // Binary has no code for 0, so its masks must need no fillers: dense enough for 8-bit gaps.
        const mask = randomMask(rng, n, scheme === 'binary' ? 0.5 : 0.15);
        for (const sparse of [false, true]) {
          const q = makeQuantized(rng, scheme, shape, axis, sparse ? mask : undefined);
          for (const huffman of [false, true]) {
            const encoding = sparse
              ? { kind: 'quantized' as const, q, mask, indexBits: scheme === 'binary' ? 8 : 2, huffman }
              : { kind: 'quantized' as const, q, huffman };
            layers.push({ name: `${scheme}/${shape.length}d/${axis}/${sparse}/${huffman}`, shape, encoding });
            expected.push(dequantize(q, sparse ? mask : undefined));
          }
        }
      }
      const { read, header } = roundTrip(layers);
      read.tensors.forEach((t, i) => expect(bits(t.values), t.name).toEqual(bits(expected[i])));
      const stored = scheme === 'kmeans' ? 'full' : 'params';
      for (const l of header.layers) expect(l.codebook).toBe(stored);
    });
  }

  it('a codebook its params do not reproduce bit-exactly is stored in full, and still decodes exactly', () => {
    const q = makeQuantized(rng, 'symmetric', [50, 8], -1);
    // Same values computed another way: k·s − qmax·s rounds differently for some k.
    const qmax = (q.levels - 1) / 2;
    for (let c = 0; c < 8; c++)
      for (let k = 0; k < q.levels; k++)
        q.codebook[c * q.levels + k] = Math.fround(k * q.params[c]) - Math.fround(qmax * q.params[c]);
    const { read, header } = roundTrip([
      { name: 'w', shape: [50, 8], encoding: { kind: 'quantized', q, huffman: true } },
    ]);
    expect(header.layers[0].codebook).toBe('full');
    expect(bits(read.tensors[0].values)).toEqual(bits(dequantize(q)));
  });

  it('a depthwise kernel with one codebook per C·M output channel (channelSpan 2): format ≥ 3, exact', () => {
    const shape = [3, 3, 4, 2];
    const w = new Float32Array(72).map(() => rng.normal());
    const mask = randomMask(rng, 72, 0.5);
    for (const scheme of ['asymmetric', 'kmeans'] as const) {
      const q = quantizeTensor(w, shape, { scheme, bits: 3, channelAxis: 2, channelSpan: 2, mask });
      expect(q.codebook.length).toBe(8 * q.levels);
      const { read, header, written } = roundTrip([
        { name: 'dw', shape, encoding: { kind: 'quantized', q, mask, indexBits: 3, huffman: true } },
      ]);
      expect(header.layers[0]).toMatchObject({ channelAxis: 2, channelSpan: 2 });
      expect(new DataView(written.bytes.buffer).getUint16(4, true)).toBe(4);
      expect(bits(read.tensors[0].values)).toEqual(bits(quantDequantize(q).map((v, i) => (mask[i] ? v : 0))));
    }
    // One axis writes no span.
    const one = quantizeTensor(w, shape, { scheme: 'symmetric', bits: 3, channelAxis: -1 });
    const { header } = roundTrip([{ name: 'dw', shape, encoding: { kind: 'quantized', q: one } }]);
    expect(header.layers[0].channelSpan).toBeUndefined();
  });

  it('params storage is smaller than the full codebook: 4 bytes per channel for symmetric', () => {
    const q = makeQuantized(rng, 'symmetric', [20, 16], -1);
    const { written } = roundTrip([{ name: 'w', shape: [20, 16], encoding: { kind: 'quantized', q } }]);
    expect(written.layers[0].parts).toEqual({ codebook: 16 * 4, codes: (320 * 4) / 8 });
  });

  it('size: 266,200 weights, 10 % kept, 5-bit k-means, Huffman — at least 30× smaller than float32', () => {
    const shape = [2662, 100];
    const n = 266_200;
    const mask = randomMask(rng, n, 0.1);
    const q = makeQuantized(rng, 'kmeans', shape, null, mask);
    const { written, read } = roundTrip([
      { name: 'fc', shape, encoding: { kind: 'quantized', q, mask, indexBits: 5, huffman: true } },
    ]);
    expect(firstBitDifference(read.tensors[0].values, dequantize(q, mask))).toBe(-1);
    const ratio = (n * 4) / written.bytes.length;
    expect(ratio).toBeGreaterThanOrEqual(30);
    expect(written.layers[0].parts.codebook).toBe(32 * 4);
  });
});

describe('writeArtifact input errors', () => {
  const rng = createRng(2);
  it('a filler needs a code for 0: binary (zeroCode −1) with a long gap throws', () => {
    const mask = new Uint8Array(40);
    mask[0] = mask[39] = 1;
    const q = makeQuantized(rng, 'binary', [40], null, mask);
    expect(() =>
      writeArtifact(null, [{ name: 'b', shape: [40], encoding: { kind: 'quantized', q, mask, indexBits: 3 } }]),
    ).toThrow(
      /layer "b": a filler entry at position 8 needs channel 0's code for 0, but that channel has none \(zeroCode -1\)/,
    );
  });

  it('mismatched lengths, shapes, codes, duplicate names, missing indexBits', () => {
    const q = makeQuantized(rng, 'kmeans', [4, 4], -1);
    const write = (l: ArtifactLayer) => () => writeArtifact(null, [l]);
    expect(write({ name: 'a', shape: [5], encoding: { kind: 'float32', values: new Float32Array(4) } })).toThrow(
      /values must have 5 entries/,
    );
    expect(write({ name: 'a', shape: [4, 2], encoding: { kind: 'quantized', q } })).toThrow(
      /q.shape must equal the layer shape \[4,2\], got \[4,4\]/,
    );
    expect(write({ name: 'a', shape: [4, 4], encoding: { kind: 'quantized', q, mask: new Uint8Array(16) } })).toThrow(
      /a mask needs indexBits/,
    );
    expect(
      write({ name: 'a', shape: [4, 4], encoding: { kind: 'quantized', q, mask: new Uint8Array(16), indexBits: 17 } }),
    ).toThrow(/indexBits must be an integer in \[1, 16\]/);
    const bad: QuantizedTensor = { ...q, codes: q.codes.slice() };
    bad.codes[3] = 32;
    expect(write({ name: 'a', shape: [4, 4], encoding: { kind: 'quantized', q: bad } })).toThrow(
      /q.codes\[3\] = 32 is not below levels = 32/,
    );
    const f = { name: 'x', shape: [1], encoding: { kind: 'float32' as const, values: new Float32Array(1) } };
    expect(() => writeArtifact(null, [f, f])).toThrow(/"x" appears twice/);
    expect(() => writeArtifact({ n: 1n }, [f])).toThrow(/model must be JSON-serialisable/);
  });
});

describe('readArtifact on bad files', () => {
  const rng = createRng(3);
  const q = makeQuantized(rng, 'kmeans', [30, 20], -1);
  const mask = randomMask(rng, 600, 0.2);
  const good = writeArtifact(MODEL, [
    { name: 'w', shape: [30, 20], encoding: { kind: 'quantized', q, mask, indexBits: 4, huffman: true } },
    { name: 'b', shape: [20], encoding: { kind: 'float32', values: new Float32Array(20).fill(0.5) } },
  ]);
  /** The file with an edited header and a valid checksum, so the reader's header checks are what fails. */
  const withHeader = (edit: (h: any) => void): Uint8Array => {
    const h = headerOf(good.bytes, good.headerBytes);
    edit(h);
    const json = deflateRawSync(JSON.stringify(h));
    const out = new Uint8Array(14 + json.length + good.bytes.length - good.headerBytes);
    out.set(good.bytes.subarray(0, 14));
    new DataView(out.buffer).setUint32(6, json.length, true);
    out.set(json, 14);
    out.set(good.bytes.subarray(good.headerBytes), 14 + json.length);
    return withChecksum(out);
  };

  /** The good file as version 1 (plain JSON header) or 2–3 (deflated): a 10-byte preamble without CRC. */
  const olderVersion = (version: number, edit = (_h: any) => {}): Uint8Array => {
    const h = headerOf(good.bytes, good.headerBytes);
    edit(h);
    const text = JSON.stringify(h);
    const json = version === 1 ? new TextEncoder().encode(text) : deflateRawSync(text);
    const out = new Uint8Array(10 + json.length + good.bytes.length - good.headerBytes);
    out.set(good.bytes.subarray(0, 10));
    new DataView(out.buffer).setUint16(4, version, true);
    new DataView(out.buffer).setUint32(6, json.length, true);
    out.set(json, 10);
    out.set(good.bytes.subarray(good.headerBytes), 10 + json.length);
    return out;
  };

  it('errors are ArtifactErrors (ConfigErrors: exit code 2)', () => {
    const e = (() => {
      try {
        readArtifact(new Uint8Array(3));
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ArtifactError);
    expect(e).toBeInstanceOf(ConfigError);
  });

  it('names what was expected and what was found', () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(3), /expected at least 10 bytes .* found 3/],
      [
        Uint8Array.from([...new TextEncoder().encode('PK\x03\x04'), ...good.bytes.subarray(4)]),
        /expected magic "SQZ1" at byte 0, found "PK\\x03\\x04"/,
      ],
      [
        (() => {
          const b = good.bytes.slice();
          b[4] = 9;
          return b;
        })(),
        /expected format version 1, 2, 3 or 4 at byte 4, found 9/,
      ],
      [new Uint8Array(good.bytes.subarray(0, 12)), /expected at least 14 bytes .* found 12/],
      [good.bytes.subarray(0, 40), /expected a \d+-byte header after byte 14, but the file has only 40 bytes/],
      [
        good.bytes.subarray(0, good.bytes.length - 1),
        new RegExp(
          `checksum mismatch: .* the file is corrupt or was altered; the header declares ${good.bytes.length} bytes but the file has ${good.bytes.length - 1} — truncated\\?`,
        ),
      ],
      [
        withChecksum(good.bytes.slice(0, good.bytes.length - 1)),
        /layer "b": expected its 80-byte section at bytes \[\d+, \d+\), but the file ends at byte \d+ — truncated\?/,
      ],
      [Uint8Array.from([...good.bytes, 0]), /checksum mismatch: .*; the header declares \d+ bytes but the file has/],
      [
        withChecksum(Uint8Array.from([...good.bytes, 0])),
        /expected the file to end at byte \d+ after the last section, found 1 trailing bytes/,
      ],
      [
        (() => {
          const b = good.bytes.slice();
          b[good.bytes.length - 3] ^= 4;
          return b;
        })(),
        /checksum mismatch: the CRC-32 at byte 10 is 0x[0-9a-f]{8} but the file's bytes give 0x[0-9a-f]{8} — the file is corrupt or was altered$/,
      ],
      [
        withHeader((h) => {
          h.layers[0].encoding = 'zip';
        }),
        /layers\[0\]\.encoding: expected one of "float32", "sparse-float32", "quantized", found "zip"/,
      ],
      [
        withHeader((h) => {
          h.layers[0].levels = 0;
        }),
        /layers\[0\]\.levels: expected an integer in \[1, 65536\], found 0/,
      ],
      [
        withHeader((h) => {
          h.layers[0].parts.codes += 1;
        }),
        /expected its parts to add up to byteLength \d+, found \d+/,
      ],
      [
        withHeader((h) => {
          h.layers[0].entries += 50;
        }),
        /layer "w" \(quantized\): huffmanDecode: expected \d+ symbols within \d+ bits, but they need \d+/,
      ],
      [
        withHeader((h) => {
          h.layers[1].shape = [21];
        }),
        /layer "b" \(float32\): values: expected 84 bytes, found 80/,
      ],
      [
        withHeader((h) => {
          h.layers[0].codebook = 'params';
        }),
        /codebook: expected one of "full", found "params"/,
      ],
      [
        withHeader((h) => {
          h.layers[0].channelSpan = 2;
        }),
        /layers\[0\]\.channelSpan: expected none \(channelAxis 1 is the last axis\), found 2/,
      ],
      [
        withHeader((h) => {
          h.layers[0].channelAxis = 0;
          h.layers[0].channelSpan = 3;
        }),
        /layers\[0\]\.channelSpan: expected an integer in \[2, 2\], found 3/,
      ],
      [
        olderVersion(2, (h) => {
          h.layers[0].channelAxis = 0;
          h.layers[0].channelSpan = 2;
        }),
        /layers\[0\]\.channelSpan: expected none \(a version 2 file has none\), found 2/,
      ],
    ];
    for (const [bytes, message] of cases) expect(() => readArtifact(bytes), String(message)).toThrow(message);
    const badJson = good.bytes.slice();
    badJson[14] = 0x7b + 1;
    expect(() => readArtifact(withChecksum(badJson))).toThrow(
      /expected a DEFLATEd UTF-8 JSON header, found invalid data at bytes \[14, \d+\)/,
    );
  });

  it('reads version 1 (plain JSON header), 2 and 3 files (no CRC) to the same tensors', () => {
    const v1 = olderVersion(1);
    expect(v1.length - good.bytes.length).toBeGreaterThan(0); // the deflated header is the smaller one
    for (const old of [v1, olderVersion(2), olderVersion(3)]) {
      expect(readArtifact(old).tensors).toEqual(readArtifact(good.bytes).tensors);
    }
    // Without a checksum, a flipped bit in a float32 section decodes to a different tensor: what version 4 is for.
    const v3 = olderVersion(3);
    v3[v3.length - 1] ^= 0x40;
    expect(readArtifact(v3).tensors[1].values).not.toEqual(readArtifact(good.bytes).tensors[1].values);
    const v4 = good.bytes.slice();
    v4[v4.length - 1] ^= 0x40;
    expect(() => readArtifact(v4)).toThrow(/checksum mismatch/);
  });

  it('flipped bits in a section (checksum recomputed) are caught or decode to some tensor — never hang', () => {
    for (let t = 0; t < 200; t++) {
      const b = good.bytes.slice();
      const at = good.headerBytes + rng.int(good.bytes.length - good.headerBytes);
      b[at] ^= 1 << rng.int(8);
      withChecksum(b);
      try {
        const r = readArtifact(b);
        expect(r.tensors[0].values.length).toBe(600);
      } catch (e) {
        expect(e).toBeInstanceOf(ArtifactError);
      }
    }
  });
});
