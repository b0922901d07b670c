import { rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset, loadIdxDirectory } from './index.js';
import {
  bigEndian,
  expectDatasetError,
  idxBytes,
  tempDir,
  uint8Images,
  uint8Labels,
  writeIdxDir,
} from './__tests__/fixtures.js';

describe('loadIdxDirectory', () => {
  it('loads the four files, scaling pixels to [0, 1]', () => {
    const dir = writeIdxDir({
      'train-images-idx3-ubyte': uint8Images(6, 2, 3, (i) => (i === 0 ? 255 : i === 1 ? 51 : 0)),
    });
    const ds = loadIdxDirectory(dir, 'tiny');
    expect(ds.name).toBe('tiny');
    expect(ds.source).toBe(dir);
    expect(ds.inputShape).toEqual([2, 3]);
    expect(ds.numClasses).toBe(3);
    expect(ds.train.count).toBe(6);
    expect(ds.test.count).toBe(3);
    expect(ds.train.x).toBeInstanceOf(Float32Array);
    expect(ds.train.x.length).toBe(36);
    expect(ds.train.x[0]).toBe(1);
    expect(ds.train.x[1]).toBeCloseTo(0.2, 6);
    expect(ds.train.x[2]).toBe(0);
    expect([...ds.train.y]).toEqual([0, 1, 2, 0, 1, 2]);
    expect([...ds.test.y]).toEqual([2, 1, 0]);
    expect(ds.test.x[17]).toBeCloseTo((255 - 17) / 255, 6);
  });

  it('reads gzip-compressed files', () => {
    const ds = loadIdxDirectory(writeIdxDir({}, { gzip: true }), 'gz');
    expect(ds.train.count).toBe(6);
    expect([...ds.test.y]).toEqual([2, 1, 0]);
  });

  it('keeps numClasses at least 2', () => {
    const dir = writeIdxDir({
      'train-labels-idx1-ubyte': uint8Labels([0, 0, 0, 0, 0, 0]),
      't10k-labels-idx1-ubyte': uint8Labels([0, 0, 0]),
    });
    expect(loadIdxDirectory(dir, 'one').numClasses).toBe(2);
  });

  it('names the expected files and the directory when one is missing', async () => {
    const dir = writeIdxDir({ 't10k-labels-idx1-ubyte': undefined });
    const err = await expectDatasetError(
      () => loadIdxDirectory(dir, 'd'),
      'missing t10k-labels-idx1-ubyte (or t10k-labels-idx1-ubyte.gz)',
      dir,
    );
    expect(err.hint).toContain(
      'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte',
    );
  });

  it('reports a missing directory', async () => {
    const dir = join(tempDir(), 'absent');
    await expectDatasetError(() => loadIdxDirectory(dir, 'd'), 'dataset directory not found', dir);
  });

  it('names both files and both counts when images and labels disagree', async () => {
    const dir = writeIdxDir({ 'train-labels-idx1-ubyte': uint8Labels([0, 1, 2, 0, 1]) });
    await expectDatasetError(
      () => loadIdxDirectory(dir, 'd'),
      'train-images-idx3-ubyte has 6 images but train-labels-idx1-ubyte has 5 labels',
    );
  });

  it('requires 3-D uint8 images and 1-D uint8 labels', async () => {
    const flat = writeIdxDir({ 'train-images-idx3-ubyte': idxBytes(0x08, [6, 6], new Uint8Array(36)) });
    await expectDatasetError(
      () => loadIdxDirectory(flat, 'd'),
      'train-images-idx3-ubyte: expected 3-D uint8 images',
      'found 2-D uint8 (6×6)',
    );
    const wide = writeIdxDir({ 't10k-labels-idx1-ubyte': idxBytes(0x0c, [3], bigEndian('int32', [0, 1, 2])) });
    await expectDatasetError(
      () => loadIdxDirectory(wide, 'd'),
      't10k-labels-idx1-ubyte: expected 1-D uint8 labels',
      'found 1-D int32',
    );
  });

  it('rejects a test label beyond the training classes', async () => {
    const dir = writeIdxDir({ 't10k-labels-idx1-ubyte': uint8Labels([0, 7, 1]) });
    await expectDatasetError(
      () => loadIdxDirectory(dir, 'd'),
      't10k-labels-idx1-ubyte: label 7 at index 1',
      'not below 3',
    );
  });

  it('rejects train and test images of different shapes', async () => {
    const dir = writeIdxDir({ 't10k-images-idx3-ubyte': uint8Images(3, 3, 2) });
    await expectDatasetError(() => loadIdxDirectory(dir, 'd'), 'train images are 2×3 but test images are 3×2');
  });

  it('passes on a corrupt file error with the file name', async () => {
    const dir = writeIdxDir();
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), uint8Images(3, 2, 3).subarray(0, 20));
    await expectDatasetError(() => loadIdxDirectory(dir, 'd'), 't10k-images-idx3-ubyte: truncated');
  });

  it('prefers the plain file when both plain and .gz exist', () => {
    const dir = writeIdxDir({}, { gzip: true });
    writeIdxDir({ 't10k-labels-idx1-ubyte': uint8Labels([1, 1, 1]) }, { dir });
    expect([...loadIdxDirectory(dir, 'd').test.y]).toEqual([1, 1, 1]);
    rmSync(join(dir, 't10k-labels-idx1-ubyte'));
    expect([...loadIdxDirectory(dir, 'd').test.y]).toEqual([2, 1, 0]);
  });
});

describe('idx builder', () => {
  it('resolves path against baseDir', async () => {
    const dir = writeIdxDir();
    const ds = await loadDataset({ name: 'idx', path: basename(dir) }, { baseDir: dirname(dir) });
    expect(ds.source).toBe(dir);
    expect(ds.name).toBe('idx');
    expect(ds.train.count).toBe(6);
  });

  it('requires a path', async () => {
    const err = await expectDatasetError(() => loadDataset({ name: 'idx' }), 'needs a path');
    expect(err.location?.path).toBe('dataset.path');
  });
});
