import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseIdx, readIdx } from './index.js';
import { bigEndian, expectDatasetError, idxBytes, tempDir } from './__tests__/fixtures.js';

describe('parseIdx: element types', () => {
  it('parses a 3-D uint8 array with its dims', () => {
    const a = parseIdx(
      idxBytes(
        0x08,
        [2, 2, 3],
        Array.from({ length: 12 }, (_, i) => i * 20),
      ),
      'x',
    );
    expect(a.dtype).toBe('uint8');
    expect(a.dims).toEqual([2, 2, 3]);
    expect(a.data).toBeInstanceOf(Uint8Array);
    expect([...a.data]).toEqual(Array.from({ length: 12 }, (_, i) => i * 20));
  });

  it('reads big-endian int32 (a little-endian read would give 0x04030201)', () => {
    const values = [1, -2, 0x01020304, -2147483648, 2147483647];
    const a = parseIdx(idxBytes(0x0c, [5], bigEndian('int32', values)), 'x');
    expect(a.dtype).toBe('int32');
    expect(a.dims).toEqual([5]);
    expect(a.data).toBeInstanceOf(Int32Array);
    expect([...a.data]).toEqual(values);
  });

  it('reads big-endian float32 and float64', () => {
    const f32 = parseIdx(idxBytes(0x0d, [2, 2], bigEndian('float32', [1.5, -0.25, Math.PI, 1e-30])), 'x');
    expect(f32.dtype).toBe('float32');
    expect(f32.dims).toEqual([2, 2]);
    expect(f32.data).toBeInstanceOf(Float32Array);
    expect([...f32.data]).toEqual([1.5, -0.25, Math.fround(Math.PI), Math.fround(1e-30)]);
    const f64 = parseIdx(idxBytes(0x0e, [2], bigEndian('float64', [Math.PI, -1e300])), 'x');
    expect(f64.dtype).toBe('float64');
    expect([...f64.data]).toEqual([Math.PI, -1e300]);
  });

  it('reads int8 and big-endian int16', () => {
    const i8 = parseIdx(idxBytes(0x09, [3], [0xff, 0x7f, 0x80]), 'x');
    expect(i8.dtype).toBe('int8');
    expect([...i8.data]).toEqual([-1, 127, -128]);
    const i16 = parseIdx(idxBytes(0x0b, [1, 3], bigEndian('int16', [-300, 258, 32767])), 'x');
    expect(i16.dtype).toBe('int16');
    expect(i16.dims).toEqual([1, 3]);
    expect([...i16.data]).toEqual([-300, 258, 32767]);
  });

  it('returns data that does not alias the input bytes', () => {
    const bytes = idxBytes(0x08, [2], [7, 9]);
    const a = parseIdx(bytes, 'x');
    bytes[8] = 0;
    expect([...a.data]).toEqual([7, 9]);
  });
});

describe('gzip', () => {
  const plain = idxBytes(0x0c, [3], bigEndian('int32', [10, -20, 30]));

  it('parses gzip bytes detected by their magic number', () => {
    const a = parseIdx(gzipSync(plain), 'labels');
    expect(a.dims).toEqual([3]);
    expect([...a.data]).toEqual([10, -20, 30]);
  });

  it('reads a .gz file, and a .gz-named file that is actually plain', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.gz'), gzipSync(plain));
    writeFileSync(join(dir, 'b.gz'), plain);
    expect([...readIdx(join(dir, 'a.gz')).data]).toEqual([10, -20, 30]);
    expect([...readIdx(join(dir, 'b.gz')).data]).toEqual([10, -20, 30]);
  });

  it('reports corrupt gzip data', async () => {
    const gz = gzipSync(plain);
    const broken = gz.subarray(0, gz.length - 6);
    await expectDatasetError(() => parseIdx(broken, '/d/labels.gz'), 'labels.gz: corrupt gzip data');
  });

  it('measures a truncated payload after gunzip', async () => {
    const short = gzipSync(idxBytes(0x08, [10], [1, 2, 3]));
    await expectDatasetError(() => parseIdx(short, 'l.gz'), 'truncated', 'file has 3 bytes', '(after gunzip)');
  });
});

describe('readIdx / parseIdx errors', () => {
  it('names the path of a missing file', async () => {
    const path = join(tempDir(), 'nope-idx1-ubyte');
    const err = await expectDatasetError(() => readIdx(path), 'not found', path);
    expect(err.location?.file).toBe(path);
  });

  it('rejects a directory', async () => {
    const dir = tempDir();
    await expectDatasetError(() => readIdx(dir), 'not a file', dir);
  });

  it('reports a truncated payload with declared and actual sizes', async () => {
    const path = join(tempDir(), 't10k-images-idx3-ubyte');
    writeFileSync(path, idxBytes(0x08, [10000, 28, 28], new Uint8Array(1234)));
    const err = await expectDatasetError(() => readIdx(path));
    expect(err.message).toBe(
      't10k-images-idx3-ubyte: truncated: header declares 10000×28×28 uint8 = 7840000 bytes' +
        ' of data, file has 1234 bytes after the 16-byte header',
    );
    expect(err.location?.file).toBe(path);
  });

  it('counts the item size of wider types', async () => {
    await expectDatasetError(
      () => parseIdx(idxBytes(0x0d, [2, 3], new Uint8Array(20)), 'w'),
      'header declares 2×3 float32 = 24 bytes of data, file has 20 bytes after the 12-byte header',
    );
  });

  it('rejects trailing bytes', async () => {
    const path = join(tempDir(), 'train-labels-idx1-ubyte');
    writeFileSync(path, idxBytes(0x08, [4], [1, 2, 3, 4, 5, 6]));
    const err = await expectDatasetError(
      () => readIdx(path),
      'train-labels-idx1-ubyte: trailing data',
      'header declares 4 uint8 = 4 bytes of data, file has 6 bytes after the 8-byte header (2 extra)',
    );
    expect(err.location?.file).toBe(path);
  });

  it('rejects a foreign file by its magic bytes (PNG)', async () => {
    const dir = tempDir();
    const path = join(dir, 'train-images-idx3-ubyte');
    writeFileSync(path, Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]));
    await expectDatasetError(
      () => readIdx(path),
      'train-images-idx3-ubyte: not an IDX file: magic bytes are 89 50 4e 47,' + ' expected 00 00 <type> <ndims>',
    );
  });

  it('rejects a text file and an unknown type code', async () => {
    await expectDatasetError(
      () => parseIdx(Buffer.from('hello world\n'), 'notes.txt'),
      'notes.txt: not an IDX file',
      'magic bytes are 68 65 6c 6c',
    );
    await expectDatasetError(() => parseIdx(idxBytes(0x0a, [1], [0]), 'x'), 'magic bytes are 00 00 0a 01');
  });

  it('rejects a file shorter than the magic number', async () => {
    await expectDatasetError(() => parseIdx(Uint8Array.from([0, 0]), 'tiny'), 'tiny: not an IDX file: only 2 bytes');
  });

  it('rejects a bad dimension count', async () => {
    await expectDatasetError(
      () => parseIdx(Uint8Array.from([0, 0, 8, 0, 1, 2]), 'zero'),
      'zero: IDX header declares 0 dimensions',
      'supported: 1 to 4',
    );
    await expectDatasetError(
      () => parseIdx(idxBytes(0x08, [1, 1, 1, 1, 1], [9]), 'five'),
      'five: IDX header declares 5 dimensions',
    );
  });

  it('rejects a header too short for its dims', async () => {
    await expectDatasetError(
      () => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 5, 0, 0]), 'h'),
      'h: truncated header: 3 dimensions need a 16-byte header, file has 10 bytes',
    );
  });

  it('does not mistake a directory named like a file for data', () => {
    const dir = join(tempDir(), 'x-idx1-ubyte');
    mkdirSync(dir);
    expect(() => readIdx(dir)).toThrow(/not a file/);
  });
});
