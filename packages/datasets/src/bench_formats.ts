/**
 * The formats the reading benchmark (bench.ts) measures, in one list: each writes the same images
 * in its published layout and says how an experiment would name them. A format whose kind is not
 * registered in this build is skipped by the benchmark, so a reader landing later gains its row.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { DatasetSpec } from './dataset.js';
import { idxBytes } from './writers.js';

/** Images channels-last, uint8, with their labels: what every format writes. */
export interface BenchImages {
  count: number;
  h: number;
  w: number;
  c: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

export interface BenchFormat {
  /** The dataset kind that reads it. */
  kind: string;
  /** How the layout departs from the images as given, when it does. */
  note?: string;
  /** Writes `train` and `test` under `dir`; returns the spec (relative to `dir`) and every file written. */
  write(dir: string, train: BenchImages, test: BenchImages): { spec: DatasetSpec; files: string[] };
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 as zip and PNG use it (zlib.crc32 is only in Node ≥ 20.15). */
export function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** NumPy .npy version 1.0: magic, header length, a Python dict literal padded to 64 bytes, C-order data. */
export function npyFile(descr: '|u1', shape: number[], body: Uint8Array): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  header += `${' '.repeat(64 - ((10 + header.length + 1) % 64))}\n`;
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

/** A zip of stored (uncompressed) members, as `numpy.savez` writes: local headers, data, central directory. */
export function zipStored(members: Array<{ name: string; data: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of members) {
    const n = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(data.length, 20);
    dir.writeUInt32LE(data.length, 24);
    dir.writeUInt16LE(n.length, 28);
    dir.writeUInt32LE(offset, 42);
    parts.push(local, n, data);
    central.push(dir, n);
    offset += 30 + n.length + data.length;
  }
  const size = central.reduce((a, b) => a + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, end]);
}

/** An 8-bit grayscale or RGB PNG (filter 0 on every row), channels-last pixels. */
export function pngFile(h: number, w: number, c: 1 | 3, pixels: Uint8Array): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = c === 3 ? 2 : 0;
  const raw = Buffer.alloc(h * (1 + w * c));
  for (let y = 0; y < h; y++) raw.set(pixels.subarray(y * w * c, (y + 1) * w * c), y * (1 + w * c) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** CIFAR's binary records: the label byte, then the image channel-planar (1024 R, 1024 G, 1024 B). */
export function cifarRecords(images: BenchImages, from: number, to: number): Buffer {
  const { h, w, c } = images;
  const plane = h * w;
  const rec = 1 + plane * c;
  const out = Buffer.alloc((to - from) * rec);
  for (let i = from; i < to; i++) {
    const o = (i - from) * rec;
    out[o] = images.labels[i]!;
    const src = i * plane * c;
    for (let p = 0; p < plane; p++)
      for (let k = 0; k < c; k++) out[o + 1 + k * plane + p] = images.pixels[src + p * c + k]!;
  }
  return out;
}

const sampleBytes = (s: BenchImages) => s.h * s.w * s.c;

function save(dir: string, name: string, bytes: Uint8Array, files: string[]): void {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, bytes);
  files.push(p);
}

export const BENCH_FORMATS: BenchFormat[] = [
  {
    kind: 'idx',
    note: 'as count × h × (w·c): the idx reader takes 3-D images',
    write(dir, train, test) {
      const files: string[] = [];
      const root = join(dir, 'idx');
      for (const [s, images, labels] of [
        [train, 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
        [test, 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
      ] as const) {
        save(root, images, idxBytes([s.count, s.h, s.w * s.c], s.pixels), files);
        save(root, labels, idxBytes([s.count], s.labels), files);
      }
      return { spec: { name: 'idx', path: 'idx' }, files };
    },
  },
  {
    kind: 'cifar',
    write(dir, train, test) {
      const files: string[] = [];
      const root = join(dir, 'cifar');
      const per = Math.ceil(train.count / 5);
      for (let b = 0; b < 5; b++) {
        const from = Math.min(train.count, b * per);
        save(root, `data_batch_${b + 1}.bin`, cifarRecords(train, from, Math.min(train.count, from + per)), files);
      }
      save(root, 'test_batch.bin', cifarRecords(test, 0, test.count), files);
      return { spec: { name: 'cifar', path: 'cifar' }, files };
    },
  },
  {
    kind: 'npy',
    write(dir, train, test) {
      const files: string[] = [];
      const root = join(dir, 'npy');
      for (const [s, split] of [
        [train, 'train'],
        [test, 'test'],
      ] as const) {
        save(root, `x_${split}.npy`, npyFile('|u1', [s.count, s.h, s.w, s.c], s.pixels), files);
        save(root, `y_${split}.npy`, npyFile('|u1', [s.count], s.labels), files);
      }
      return { spec: { name: 'npy', path: 'npy' }, files };
    },
  },
  {
    kind: 'npz',
    note: 'stored members, as numpy.savez writes',
    write(dir, train, test) {
      const files: string[] = [];
      const members = [
        { name: 'x_train.npy', data: npyFile('|u1', [train.count, train.h, train.w, train.c], train.pixels) },
        { name: 'y_train.npy', data: npyFile('|u1', [train.count], train.labels) },
        { name: 'x_test.npy', data: npyFile('|u1', [test.count, test.h, test.w, test.c], test.pixels) },
        { name: 'y_test.npy', data: npyFile('|u1', [test.count], test.labels) },
      ];
      save(dir, 'data.npz', zipStored(members), files);
      return { spec: { name: 'npz', path: 'data.npz' }, files };
    },
  },
  {
    kind: 'images',
    note: 'one PNG per image, train/<class>/ and test/<class>/',
    write(dir, train, test) {
      const files: string[] = [];
      const root = join(dir, 'images');
      for (const [s, split] of [
        [train, 'train'],
        [test, 'test'],
      ] as const) {
        const n = sampleBytes(s);
        for (let i = 0; i < s.count; i++) {
          const png = pngFile(s.h, s.w, s.c as 1 | 3, s.pixels.subarray(i * n, (i + 1) * n));
          save(root, `${split}/class_${s.labels[i]}/${String(i).padStart(5, '0')}.png`, png, files);
        }
      }
      return { spec: { name: 'images', path: 'images' }, files };
    },
  },
];
