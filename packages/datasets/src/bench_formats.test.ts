import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BENCH_FORMATS, type BenchImages, cifarRecords, crc32 } from './bench_formats.js';
import { loadDataset } from './index.js';
import { tempDir } from './__tests__/fixtures.js';

const images = (count: number, h: number, w: number, c: number): BenchImages => ({
  count,
  h,
  w,
  c,
  pixels: Uint8Array.from({ length: count * h * w * c }, (_, i) => (i * 7) & 255),
  labels: Uint8Array.from({ length: count }, (_, i) => i % 3),
});
const TRAIN = images(5, 4, 4, 3);
const TEST = images(2, 4, 4, 3);
const format = (kind: string) => BENCH_FORMATS.find((f) => f.kind === kind)!;
const python = (script: string, ...args: string[]) =>
  spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
const hasNumpy = python('import numpy').status === 0;

describe('the benchmark’s writers write the published layouts', () => {
  it('crc32 is the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('idx: the idx reader reads back every pixel', async () => {
    const dir = tempDir();
    const { spec } = format('idx').write(dir, TRAIN, TEST);
    const ds = await loadDataset(spec, { baseDir: dir });
    expect(ds.inputShape).toEqual([4, 12]);
    expect([...ds.train.x].map((v) => Math.round(v * 255))).toEqual([...TRAIN.pixels]);
    expect([...ds.test.y]).toEqual([...TEST.labels]);
  });

  it('cifar: label byte, then the red, green and blue planes', () => {
    const one = { count: 1, h: 1, w: 2, c: 3, pixels: Uint8Array.from([1, 2, 3, 4, 5, 6]), labels: Uint8Array.of(9) };
    expect([...cifarRecords(one, 0, 1)]).toEqual([9, 1, 4, 2, 5, 3, 6]);
    const dir = tempDir();
    const { files } = format('cifar').write(dir, TRAIN, TEST);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual([
      'cifar/data_batch_1.bin',
      'cifar/data_batch_2.bin',
      'cifar/data_batch_3.bin',
      'cifar/data_batch_4.bin',
      'cifar/data_batch_5.bin',
      'cifar/test_batch.bin',
    ]);
    expect(files.map((f) => readFileSync(f).length)).toEqual([49, 49, 49, 49, 49, 98]);
  });

  it.skipIf(!hasNumpy)('npy and npz: NumPy loads the arrays', () => {
    const dir = tempDir();
    const npy = format('npy').write(dir, TRAIN, TEST);
    const npz = format('npz').write(dir, TRAIN, TEST);
    const check = `
import sys, numpy as np
x = np.load(sys.argv[1]); y = np.load(sys.argv[2]); z = np.load(sys.argv[3])
assert x.dtype == np.uint8 and x.shape == (5, 4, 4, 3), (x.dtype, x.shape)
assert y.shape == (5,) and list(y) == [0, 1, 2, 0, 1]
assert sorted(z.files) == ['x_test', 'x_train', 'y_test', 'y_train'], z.files
assert (z['x_train'] == x).all() and z['x_test'].shape == (2, 4, 4, 3)
print(int(x.reshape(-1)[17]))
`;
    const r = python(check, npy.files[0]!, npy.files[1]!, npz.files[0]!);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(String(TRAIN.pixels[17]));
  });

  it('images: PNGs whose chunks, checksums and pixels a plain zlib decode confirms, in train/<class>/', () => {
    const dir = tempDir();
    const { files } = format('images').write(dir, TRAIN, TEST);
    expect(files[1]!.slice(dir.length + 1)).toBe('images/train/class_1/00001.png');
    expect(files).toHaveLength(7);
    const check = `
import sys, struct, zlib
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
i, chunks = 8, {}
while i < len(b):
    n, = struct.unpack('>I', b[i:i+4]); t = b[i+4:i+8]; d = b[i+8:i+8+n]
    crc, = struct.unpack('>I', b[i+8+n:i+12+n]); assert crc == zlib.crc32(t + d) & 0xffffffff, t
    chunks[t] = d; i += 12 + n
w, h, depth, color = struct.unpack('>IIBB', chunks[b'IHDR'][:10])
raw = zlib.decompress(chunks[b'IDAT'])
rows = [raw[y*(1+w*3)+1:(y+1)*(1+w*3)] for y in range(h)]
assert all(raw[y*(1+w*3)] == 0 for y in range(h))
print(w, h, depth, color, ','.join(str(v) for v in b''.join(rows)))
`;
    const r = python(check, files[1]!);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`4 4 8 2 ${[...TRAIN.pixels.subarray(48, 96)].join(',')}`);
  });
});
