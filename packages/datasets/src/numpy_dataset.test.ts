import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './index.js';
import { expectDatasetError, tempDir } from './__tests__/fixtures.js';
import { f32, i64, type NpzArrays, npyBytes, npzBytes, standardArrays, u8, writeFiles } from './__tests__/formats.js';

const npz = (entries: NpzArrays, level: 0 | 6 = 0): string =>
  join(writeFiles(tempDir(), { 'data.npz': npzBytes(entries, level) }), 'data.npz');

const labels = (values: number[]): Uint8Array => npyBytes('<i8', [values.length], i64(values));

describe('npz and npy datasets', () => {
  it('reads an .npz written here (deflated) like the same arrays as .npy files', async () => {
    const arrays = standardArrays();
    const fromNpz = await loadDataset({ name: 'npz', path: npz(arrays, 6) });
    const fromDir = await loadDataset({ name: 'npy', path: writeFiles(tempDir(), arrays) });
    expect(fromNpz.inputShape).toEqual([4, 4, 3]);
    expect(fromNpz.numClasses).toBe(3);
    expect(fromNpz.train.x).toEqual(fromDir.train.x);
    expect(fromNpz.test.y).toEqual(fromDir.test.y);
    expect(fromNpz.source).toMatch(/data\.npz$/);
  });

  it('takes the class count from dataset.numClasses when given, else the training labels', async () => {
    const arrays = standardArrays();
    expect((await loadDataset({ name: 'npz', path: npz(arrays), numClasses: 7 })).numClasses).toBe(7);
    const binary = { ...arrays, 'y_train.npy': labels([0, 0, 0, 0, 0, 0, 0, 0, 0]), 'y_test.npy': labels([0, 0, 0]) };
    expect((await loadDataset({ name: 'npz', path: npz(binary) })).numClasses).toBe(2);
  });

  it('resolves path against the experiment directory and cuts splits to limits', async () => {
    const dir = writeFiles(tempDir(), { 'sub/d.npz': npzBytes(standardArrays()) });
    const ds = await loadDataset({ name: 'npz', path: 'sub/d.npz', limits: { train: 4 } }, { baseDir: dir });
    expect(ds.train.count).toBe(4);
    expect(ds.train.x.length).toBe(4 * 48);
  });
});

/** Each a broken variant of the valid arrays: the error names the file (or entry) and what was expected. */
const BROKEN: Array<{ name: string; entries: NpzArrays; spec?: object; message: (string | RegExp)[] }> = [
  {
    name: 'a truncated .npy entry',
    entries: { ...standardArrays(), 'x_train.npy': standardArrays()['x_train.npy']!.subarray(0, 300) },
    message: [
      'data.npz: x_train.npy: truncated: the header declares shape (9, 4, 4, 3) of <f4 = 1728 bytes of data, the file has 172',
    ],
  },
  {
    name: 'an entry that is not .npy',
    entries: { ...standardArrays(), 'y_test.npy': new TextEncoder().encode('0,1,2\n') },
    message: ['data.npz: y_test.npy: not a .npy file: it starts with 30 2c 31 2c 32 0a'],
  },
  {
    name: 'a zip without the arrays',
    entries: { 'readme.txt': u8([104, 105]), 'images.npy': standardArrays()['x_train.npy']! },
    message: ["data.npz: no array 'x_train' (entry x_train.npy) for x_train; the archive holds readme.txt, images.npy"],
  },
  {
    name: 'mismatched image and label counts',
    entries: { ...standardArrays(), 'y_train.npy': labels([0, 1, 2, 0, 1, 2, 0, 1]) },
    message: ['data.npz: y_train.npy: 8 labels for 9 images in data.npz: x_train.npy; expected one label per image'],
  },
  {
    name: 'a negative label',
    entries: { ...standardArrays(), 'y_train.npy': labels([0, 1, 2, 0, -1, 2, 0, 1, 2]) },
    message: ['data.npz: y_train.npy: label -1 at index 4 is out of range'],
  },
  {
    name: 'a test label beyond the training classes',
    entries: { ...standardArrays(), 'y_test.npy': labels([0, 3, 1]) },
    message: [
      'data.npz: y_test.npy: label 3 at index 1 is out of range: expected 0 to 2 (the class count implied by data.npz: y_train.npy)',
    ],
  },
  {
    name: 'a label beyond dataset.numClasses',
    entries: standardArrays(),
    spec: { numClasses: 2 },
    message: ['data.npz: y_train.npy: label 2 at index 2 is out of range: expected 0 to 1 (dataset.numClasses)'],
  },
  {
    name: 'a label beyond 255',
    entries: { ...standardArrays(), 'y_train.npy': labels([0, 1, 2, 0, 1, 2, 0, 1, 300]) },
    message: ['label 300 at index 8 is out of range: at most 256 classes'],
  },
  {
    name: 'one-hot labels',
    entries: { ...standardArrays(), 'y_train.npy': npyBytes('<i8', [9, 3], i64(new Array(27).fill(0))) },
    message: ['data.npz: y_train.npy: labels have shape (9, 3); expected (N,) or (N, 1) integer class indices'],
  },
  {
    name: 'float labels',
    entries: { ...standardArrays(), 'y_train.npy': npyBytes('<f4', [9], f32(new Array(9).fill(0))) },
    message: ['y_train.npy: labels are float32; expected integer class indices'],
  },
  {
    name: 'train and test images of different shapes',
    entries: { ...standardArrays(), 'x_test.npy': npyBytes('<f4', [3, 4, 4, 1], f32(new Array(48).fill(0))) },
    message: [
      'data.npz: x_test.npy: test images have shape (3, 4, 4, 1) but training images (data.npz: x_train.npy) have (9, 4, 4, 3)',
    ],
  },
  {
    name: 'int32 images',
    entries: { ...standardArrays(), 'x_train.npy': npyBytes('<i4', [9, 48], new Uint8Array(9 * 48 * 4)) },
    message: ['data.npz: x_train.npy: image dtype int32 (<i4) is not supported; expected uint8, float32 or float64'],
  },
  {
    name: 'a 1-D image array',
    entries: { ...standardArrays(), 'x_train.npy': npyBytes('<f4', [9], f32(new Array(9).fill(0))) },
    message: ['x_train.npy: images have shape (9); expected (N, D), (N, H, W) or (N, H, W, C)'],
  },
  {
    name: 'a NaN pixel',
    entries: {
      ...standardArrays(),
      'x_test.npy': npyBytes(
        '<f4',
        [3, 4, 4, 3],
        f32([...new Array(100).fill(0), Number.NaN, ...new Array(43).fill(0)]),
      ),
    },
    message: ['data.npz: x_test.npy: value NaN at flat index 100 (sample 2); images must be finite'],
  },
  {
    name: 'channelsFirst on 3-D images',
    entries: { ...standardArrays(), 'x_train.npy': npyBytes('<f4', [9, 4, 12], f32(new Array(9 * 48).fill(0))) },
    spec: { channelsFirst: true },
    message: ['x_train.npy: images have shape (9, 4, 12); expected (N, C, H, W) with dataset.channelsFirst'],
  },
];

describe('broken npz input: a DatasetError naming the file and what was expected', () => {
  it.each(BROKEN)('$name', async ({ entries, spec, message }) => {
    const path = npz(entries);
    const err = await expectDatasetError(() => loadDataset({ name: 'npz', path, ...spec }), ...message);
    expect(err.location?.file).toBe(path);
  });

  it('an entry compressed with a method NumPy never writes', async () => {
    const zip = npzBytes(standardArrays());
    // The end record (last 22 bytes, no comment) gives the central directory's offset; mark its
    // first entry, x_train.npy, as LZMA (method 14).
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    const central = view.getUint32(zip.length - 22 + 16, true);
    expect(view.getUint32(central, true)).toBe(0x02014b50);
    view.setUint16(central + 10, 14, true);
    const path = join(writeFiles(tempDir(), { 'data.npz': zip }), 'data.npz');
    await expectDatasetError(
      () => loadDataset({ name: 'npz', path }),
      'data.npz: entry x_train.npy uses zip compression method 14; expected stored (0) or deflated (8)',
    );
  });

  it('a file that is not a zip', async () => {
    const path = join(writeFiles(tempDir(), { 'data.npz': 'x_train,y_train\n1,2\n' }), 'data.npz');
    await expectDatasetError(() => loadDataset({ name: 'npz', path }), 'data.npz: not a readable zip archive');
  });

  it('a single .npy given as the .npz', async () => {
    const path = join(writeFiles(tempDir(), { 'data.npz': standardArrays()['x_train.npy']! }), 'data.npz');
    const err = await expectDatasetError(
      () => loadDataset({ name: 'npz', path }),
      'data.npz: this is a single .npy array, not an .npz archive',
    );
    expect(err.hint).toContain("dataset name 'npy'");
  });

  it('a missing .npz, a missing .npy and a missing path', async () => {
    const dir = tempDir();
    await expectDatasetError(
      () => loadDataset({ name: 'npz', path: 'nope.npz' }, { baseDir: dir }),
      '.npz file not found:',
      'nope.npz',
    );
    const { 'y_test.npy': _, ...three } = standardArrays();
    const err = await expectDatasetError(
      () => loadDataset({ name: 'npy', path: writeFiles(tempDir(), three) }),
      'missing y_test.npy (the y_test array) in',
    );
    expect(err.hint).toContain('x_train.npy, y_train.npy, x_test.npy, y_test.npy');
    await expectDatasetError(
      () => loadDataset({ name: 'npy' }),
      "dataset 'npy' needs a path to a directory of .npy files",
    );
  });

  it('an unknown role in dataset.arrays', async () => {
    await expectDatasetError(
      () => loadDataset({ name: 'npz', path: npz(standardArrays()), arrays: { x_val: 'a' } as never }),
      'dataset.arrays.x_val is not an array role; expected x_train, y_train, x_test, y_test',
    );
  });
});
