import * as zlib from 'node:zlib';
import { deflateRawSync } from 'node:zlib';
import { inflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32', () => {
  it('matches the published check values', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('a'))).toBe(0xe8b7be43);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(new Uint8Array(32).fill(0xff))).toBe(0xff6cab0b);
  });

  it('continues from a previous CRC: crc32(b, crc32(a)) = crc32(a ++ b), at every split', () => {
    const data = ascii('Deep Compression: pruning, trained quantization and Huffman coding');
    for (let cut = 0; cut <= data.length; cut++) {
      expect(crc32(data.subarray(cut), crc32(data.subarray(0, cut)))).toBe(crc32(data));
    }
  });

  // zlib.crc32 exists from Node 20.15 on; where it does, it is an independent reference.
  it.skipIf(typeof (zlib as { crc32?: unknown }).crc32 !== 'function')('agrees with zlib on random bytes', () => {
    const reference = (zlib as unknown as { crc32: (b: Uint8Array) => number }).crc32;
    let seed = 7;
    for (const n of [1, 3, 255, 256, 4097]) {
      const b = new Uint8Array(n).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      expect(crc32(b)).toBe(reference(b));
    }
  });
});

describe("fflate's inflateSync reads what the writer's node:zlib deflateRawSync writes", () => {
  it('every level, short and long headers, multi-byte UTF-8', () => {
    const layer = (i: number) => ({ name: `block${i}/kernel ünïcødé`, shape: [3, 3, 16, 32], byteOffset: i * 1000 });
    for (const count of [0, 1, 10, 2000]) {
      const json = JSON.stringify({
        model: { name: 'résidu' },
        layers: Array.from({ length: count }, (_, i) => layer(i)),
      });
      for (const level of [0, 1, 6, 9]) {
        const deflated = new Uint8Array(deflateRawSync(ascii(json), { level }));
        expect(new TextDecoder().decode(inflateSync(deflated))).toBe(json);
      }
    }
  });
});
