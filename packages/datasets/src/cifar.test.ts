import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './index.js';
import { expectDatasetError, tempDir } from './__tests__/fixtures.js';
import { CIFAR10_NAMES, cifarBatch, writeFiles } from './__tests__/formats.js';

/** Record i of a batch: channel c at position p is a value that tells all three apart. */
const pixel = (i: number, c: number, p: number): number => (i * 7 + c * 85 + p) % 256;
const labels10 = (n: number, offset = 0): number[][] => Array.from({ length: n }, (_, i) => [(i + offset) % 10]);

/** CIFAR-10's published layout in `cifar-10-batches-bin/`, with `per` records in each batch. */
function cifar10(per = 3, overrides: Record<string, Uint8Array | string | undefined> = {}): string {
  const files: Record<string, Uint8Array | string | undefined> = {
    'batches.meta.txt': `${CIFAR10_NAMES.join('\n')}\n\n`,
    'test_batch.bin': cifarBatch(labels10(per, 5), pixel),
    ...Object.fromEntries(
      [1, 2, 3, 4, 5].map((b) => [
        `data_batch_${b}.bin`,
        cifarBatch(labels10(per, b), (i, c, p) => pixel(i + 10 * b, c, p)),
      ]),
    ),
    ...overrides,
  };
  const dir = tempDir();
  const present = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined)) as Record<
    string,
    Uint8Array | string
  >;
  writeFiles(join(dir, 'cifar-10-batches-bin'), present);
  return dir;
}

function cifar100(overrides: Record<string, Uint8Array | string> = {}): string {
  const rec = (n: number): number[][] => Array.from({ length: n }, (_, i) => [i % 20, (i * 37) % 100]);
  const names = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join('\n');
  return writeFiles(tempDir(), {
    'train.bin': cifarBatch(rec(8), pixel),
    'test.bin': cifarBatch(rec(4), pixel),
    'fine_label_names.txt': names('fine', 100),
    'coarse_label_names.txt': names('coarse', 20),
    ...overrides,
  });
}

describe('cifar: CIFAR-10', () => {
  it('reads batches 1..5 in order, planar RGB to channels-last, with label names', async () => {
    const ds = await loadDataset({ name: 'cifar', path: cifar10() });
    expect(ds.inputShape).toEqual([32, 32, 3]);
    expect(ds.numClasses).toBe(10);
    expect(ds.classNames).toEqual(CIFAR10_NAMES);
    expect(ds.train.count).toBe(15);
    expect(ds.test.count).toBe(3);
    expect(ds.source).toMatch(/cifar-10-batches-bin \(CIFAR-10\)$/);
    // Batch 2's record 1 is training sample 4.
    expect(ds.train.y[4]).toBe((1 + 2) % 10);
    for (const [p, c] of [
      [0, 0],
      [0, 2],
      [1000, 1],
      [1023, 2],
    ]) {
      expect(ds.train.x[4 * 3072 + p! * 3 + c!]).toBeCloseTo(pixel(1 + 20, c!, p!) / 255, 6);
    }
    expect([...ds.test.y]).toEqual([5, 6, 7]);
    expect(ds.test.x[2 * 3072 + 5 * 3 + 1]).toBeCloseTo(pixel(2, 1, 5) / 255, 6);
  });

  it('reads the batch directory itself, and without batches.meta.txt has no names', async () => {
    const ds = await loadDataset({
      name: 'cifar',
      path: join(cifar10(2, { 'batches.meta.txt': undefined }), 'cifar-10-batches-bin'),
    });
    expect(ds.train.count).toBe(10);
    expect(ds.classNames).toBeUndefined();
  });

  it('takes fewer training batches when numbered from 1 without gaps', async () => {
    const ds = await loadDataset({
      name: 'cifar',
      path: cifar10(2, { 'data_batch_4.bin': undefined, 'data_batch_5.bin': undefined }),
    });
    expect(ds.train.count).toBe(6);
  });
});

describe('cifar: CIFAR-100', () => {
  it('uses the fine labels by default and the coarse ones when asked', async () => {
    const dir = cifar100();
    const fine = await loadDataset({ name: 'cifar', path: dir });
    expect(fine.numClasses).toBe(100);
    expect([...fine.train.y.subarray(0, 4)]).toEqual([0, 37, 74, 11]);
    expect(fine.classNames?.[37]).toBe('fine37');
    const coarse = await loadDataset({ name: 'cifar', path: dir, labels: 'coarse' });
    expect(coarse.numClasses).toBe(20);
    expect([...coarse.train.y.subarray(0, 4)]).toEqual([0, 1, 2, 3]);
    expect(coarse.classNames?.[3]).toBe('coarse3');
    expect(coarse.train.x).toEqual(fine.train.x);
    expect(coarse.source).toContain('CIFAR-100, coarse labels');
  });
});

describe('broken cifar input', () => {
  it('a batch whose length is not a multiple of 3073 names the file and the numbers', async () => {
    const short = cifarBatch(labels10(3), pixel).subarray(0, 3 * 3073 - 100);
    const dir = cifar10(3, { 'data_batch_3.bin': short });
    const err = await expectDatasetError(
      () => loadDataset({ name: 'cifar', path: dir }),
      'data_batch_3.bin is 9119 bytes, not a multiple of the 3073-byte record (1 label byte + 3072 pixel bytes): 2 whole records and 2973 bytes left over',
    );
    expect(err.location?.file).toBe(join(dir, 'cifar-10-batches-bin', 'data_batch_3.bin'));
  });

  it('CIFAR-100 records are 3074 bytes', async () => {
    await expectDatasetError(
      () => loadDataset({ name: 'cifar', path: cifar100({ 'test.bin': new Uint8Array(3073 * 2) }) }),
      'test.bin is 6146 bytes, not a multiple of the 3074-byte record (coarse and fine label bytes + 3072 pixel bytes)',
    );
  });

  it.each([
    [
      'a label byte of 10',
      { 'test_batch.bin': cifarBatch([[1], [10]], pixel) },
      'test_batch.bin: record 1 has label 10; CIFAR-10 labels are 0 to 9',
    ],
    ['a missing test batch', { 'test_batch.bin': undefined }, 'missing test_batch.bin in'],
    ['a gap in the batches', { 'data_batch_2.bin': undefined }, 'data_batch_2.bin is missing in'],
    [
      'an empty batch',
      { 'data_batch_1.bin': new Uint8Array(0) },
      'data_batch_1.bin is empty; expected records of the 3073-byte record',
    ],
    [
      'a names file of the wrong length',
      { 'batches.meta.txt': 'cat\ndog\n' },
      'batches.meta.txt names 2 classes; CIFAR-10 has 10',
    ],
  ])('%s', async (_, overrides, message) => {
    await expectDatasetError(() => loadDataset({ name: 'cifar', path: cifar10(2, overrides) }), message);
  });

  it('a fine label of 100, coarse labels for CIFAR-10, and a directory without batches', async () => {
    await expectDatasetError(
      () => loadDataset({ name: 'cifar', path: cifar100({ 'train.bin': cifarBatch([[0, 100]], pixel) }) }),
      'train.bin: record 0 has fine label 100; CIFAR-100 labels are 0 to 99',
    );
    await expectDatasetError(
      () => loadDataset({ name: 'cifar', path: cifar10(1), labels: 'coarse' }),
      'dataset.labels applies to CIFAR-100 only',
    );
    const err = await expectDatasetError(
      () => loadDataset({ name: 'cifar', path: writeFiles(tempDir(), { data_batch_1: 'x' }) }),
      'holds no CIFAR binary batches',
    );
    expect(err.hint).toContain('data_batch_1.bin … data_batch_5.bin and test_batch.bin');
  });
});
