import { cpSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { datasetFingerprint, datasetRegistry, fileSha256, loadDataset } from './index.js';
import { sha256Hex } from '@squash/core';
import { expectDatasetError, tempDir, writeIdxDir } from './__tests__/fixtures.js';

const idx = (dir: string) => datasetFingerprint({ name: 'idx', path: basename(dir) }, dirname(dir))!;

describe('datasetFingerprint', () => {
  it('idx: the same files under another path are the same dataset', () => {
    const a = writeIdxDir();
    const b = join(tempDir(), 'elsewhere');
    cpSync(a, b, { recursive: true });
    const fa = idx(a);
    const fb = idx(b);
    expect(fa.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fb.sha256).toBe(fa.sha256);
    expect(fb.root).toBe(b);
    expect(fa).toMatchObject({ kind: 'idx', files: 4 });
    expect(fa.bytes).toBe(
      ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']
        .map((f) => statSync(join(a, f)).size)
        .reduce((x, y) => x + y),
    );
  });

  it('idx: one changed byte is another dataset; files it does not read change nothing', () => {
    const dir = writeIdxDir();
    const before = idx(dir).sha256;
    writeFileSync(join(dir, 'README.txt'), 'notes');
    expect(idx(dir).sha256).toBe(before);
    const file = join(dir, 't10k-labels-idx1-ubyte');
    const bytes = new Uint8Array(readFileSync(file));
    bytes[bytes.length - 1] = 1;
    writeFileSync(file, bytes);
    // A later mtime than the remembered one: the file is read again.
    const t = statSync(file).mtimeMs / 1000 + 5;
    utimesSync(file, t, t);
    expect(idx(dir).sha256).not.toBe(before);
  });

  it('idx: a missing directory or file is the loader’s own error', async () => {
    await expectDatasetError(() => idx(join(tempDir(), 'none')), 'dataset directory not found');
    const dir = writeIdxDir({ 't10k-labels-idx1-ubyte': undefined });
    await expectDatasetError(() => idx(dir), 'missing t10k-labels-idx1-ubyte');
  });

  it('mnist and synthetic are identified by their spec: no fingerprint', () => {
    expect(datasetFingerprint({ name: 'mnist' }, '/')).toBeUndefined();
    expect(datasetFingerprint({ name: 'synthetic', seed: 2 }, '/')).toBeUndefined();
  });

  it('a kind that does not list its files: every file under the path but dot files, by relative name', async () => {
    datasetRegistry.register('tree-test', { description: 'test', load: async () => ({}) as never });
    const root = join(tempDir(), 'tree');
    mkdirSync(join(root, 'train', 'cat'), { recursive: true });
    writeFileSync(join(root, 'train', 'cat', 'a.png'), 'A');
    writeFileSync(join(root, 'b.bin'), 'BB');
    const fp = () => datasetFingerprint({ name: 'tree-test', path: 'tree' }, dirname(root))!;
    const first = fp();
    expect(first).toMatchObject({ files: 2, bytes: 3 });
    const manifest = `b.bin\0${2}\0${sha256Hex('BB')}\ntrain/cat/a.png\0${1}\0${sha256Hex('A')}\n`;
    expect(first.sha256).toBe(sha256Hex(manifest));
    writeFileSync(join(root, '.DS_Store'), 'x');
    expect(fp().sha256).toBe(first.sha256);
    // A renamed file is another dataset (readers go by names: train/cat, test/…).
    mkdirSync(join(root, 'train', 'dog'));
    cpSync(join(root, 'train', 'cat', 'a.png'), join(root, 'train', 'dog', 'a.png'));
    rmSync(join(root, 'train', 'cat'), { recursive: true });
    expect(fp().sha256).not.toBe(first.sha256);
    // One file given as the path: its content alone, whatever it is called.
    const single = datasetFingerprint({ name: 'tree-test', path: 'b.bin' }, root)!;
    expect(single.sha256).toBe(sha256Hex(`\0${2}\0${sha256Hex('BB')}\n`));
    await expectDatasetError(
      () => datasetFingerprint({ name: 'tree-test', path: 'nowhere' }, root),
      `dataset path not found: ${join(root, 'nowhere')}`,
    );
  });
});

describe('fileSha256', () => {
  it('streams the file and remembers it until size, mtime or inode change', () => {
    const file = join(tempDir(), 'big.bin');
    const bytes = new Uint8Array(3 * (1 << 20) + 17).map((_, i) => (i * 31) & 255);
    writeFileSync(file, bytes);
    expect(fileSha256(file)).toBe(sha256Hex(bytes));
    writeFileSync(file, bytes.subarray(1));
    expect(fileSha256(file)).toBe(sha256Hex(bytes.subarray(1)));
  });
});

describe('loadDataset cache', () => {
  it('an idx directory is decoded once per process, and again once its files change', async () => {
    const dir = writeIdxDir();
    const spec = { name: 'idx', path: basename(dir) };
    const a = await loadDataset(spec, { baseDir: dirname(dir) });
    const b = await loadDataset(spec, { baseDir: dirname(dir) });
    expect(b.train.x).toBe(a.train.x);
    writeIdxDir({ 't10k-labels-idx1-ubyte': Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 0, 0, 0]) }, { dir });
    const later = Date.now() / 1000 + 5;
    utimesSync(join(dir, 't10k-labels-idx1-ubyte'), later, later);
    const c = await loadDataset(spec, { baseDir: dirname(dir) });
    expect(c.train.x).not.toBe(a.train.x);
    expect([...c.test.y]).toEqual([0, 0, 0]);
  });
});
