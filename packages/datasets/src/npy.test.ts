import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Dataset, loadDataset, parseNpy } from './index.js';
import { expectDatasetError, tempDir } from './__tests__/fixtures.js';
import {
  byteAt,
  FIXTURES,
  f32,
  floatAt,
  HAS_NUMPY,
  i64,
  npyBytes,
  testLabel,
  trainLabel,
  writeNumpyFixtures,
} from './__tests__/formats.js';

/** Every case of make_fixtures.py: its spec, the shape it must load as, and how element k is scaled. */
const CASES = [
  {
    name: 'npy v1.0, float32, int64 labels',
    spec: { name: 'npy', path: 'npy_v1' },
    inputShape: [4, 4, 3],
    at: floatAt,
  },
  {
    name: 'npy v3.0/v2.0 headers, big-endian float64 and int64',
    spec: { name: 'npy', path: 'npy_v3_be' },
    inputShape: [4, 4],
    at: floatAt,
  },
  {
    name: 'np.savez (stored), uint8 images, int32 labels shaped (N, 1)',
    spec: { name: 'npz', path: 'stored.npz' },
    inputShape: [4, 4, 3],
    at: (k: number) => byteAt(k) / 255,
  },
  {
    name: 'np.savez_compressed (deflated), other names, flat uint8, uint8 labels',
    spec: {
      name: 'npz',
      path: 'deflated.npz',
      arrays: { x_train: 'train_images', y_train: 'train_labels', x_test: 'test_images', y_test: 'test_labels' },
    },
    inputShape: [48],
    at: (k: number) => byteAt(k) / 255,
  },
];

function expectFormula(ds: Dataset, inputShape: number[], at: (k: number) => number): void {
  expect(ds.inputShape).toEqual(inputShape);
  expect(ds.numClasses).toBe(3);
  expect(ds.train.count).toBe(12);
  expect(ds.test.count).toBe(6);
  expect(ds.train.x).toBeInstanceOf(Float32Array);
  expect(ds.train.x).toEqual(Float32Array.from({ length: ds.train.x.length }, (_, k) => at(k)));
  expect(ds.test.x).toEqual(Float32Array.from({ length: ds.test.x.length }, (_, k) => at(k)));
  expect([...ds.train.y]).toEqual(Array.from({ length: 12 }, (_, i) => trainLabel(i)));
  expect([...ds.test.y]).toEqual(Array.from({ length: 6 }, (_, i) => testLabel(i)));
}

/** (N, C, H, W) element [n, c, h, w] lands at [n, h, w, c]. */
function expectChannelsLast(ds: Dataset): void {
  const [C, H, W] = [3, 4, 2];
  expect(ds.inputShape).toEqual([H, W, C]);
  for (let n = 0; n < 12; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const from = ((n * C + c) * H + h) * W + w;
          expect(ds.train.x[((n * H + h) * W + w) * C + c]).toBe(Math.fround(floatAt(from)));
        }
}

describe.each([
  { source: 'checked-in fixtures', dir: () => FIXTURES, skip: false },
  {
    source: 'files written now by the installed NumPy',
    dir: () => {
      const d = tempDir();
      writeNumpyFixtures(d);
      return d;
    },
    skip: !HAS_NUMPY,
  },
])('NumPy files: $source', ({ dir, skip }) => {
  it.skipIf(skip)('reads each header version, byte order, dtype and archive kind', async () => {
    const baseDir = dir();
    for (const c of CASES) {
      const ds = await loadDataset(c.spec, { baseDir });
      expect(ds.name, c.name).toBe(c.spec.name);
      expectFormula(ds, c.inputShape, c.at);
    }
    expectChannelsLast(await loadDataset({ name: 'npz', path: 'nchw.npz', channelsFirst: true }, { baseDir }));
  });
});

describe('parseNpy', () => {
  const body = f32([1, 2, 3, 4, 5, 6]);
  it('reads the header of each version and keeps the data as bytes', () => {
    for (const version of [1, 2, 3] as const) {
      const a = parseNpy(npyBytes('<f4', [2, 3], body, { version }), 'a.npy');
      expect(a.shape).toEqual([2, 3]);
      expect(a.dtype).toEqual({ kind: 'f', size: 4, littleEndian: true, descr: '<f4' });
      expect([...new Float32Array(a.bytes.slice().buffer)]).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('accepts a UTF-8 header in version 3 and Python 2 long integers', () => {
    const header = `{'descr': '<i8', 'fortran_order': False, 'shape': (2L,), 'note': 'é', }`;
    const a = parseNpy(npyBytes('', [], i64([7, -1]), { version: 3, header }), 'a.npy');
    expect(a.shape).toEqual([2]);
  });

  it('accepts Fortran order for a vector, where it is the same bytes as C order', () => {
    expect(parseNpy(npyBytes('<f4', [6], body, { fortran: true }), 'v.npy').shape).toEqual([6]);
  });

  it.each([
    ['a wrong magic', Buffer.from('PK\x03\x04 not numpy at all'), 'not a .npy file: it starts with 50 4b 03 04'],
    ['an empty file', new Uint8Array(0), 'not a .npy file: it starts with nothing (0 bytes)'],
    [
      'version 4.0',
      (() => {
        const b = npyBytes('<f4', [6], body);
        b[6] = 4;
        return b;
      })(),
      'format version 4.0 is not supported',
    ],
    [
      'a truncated header',
      npyBytes('<f4', [6], body).subarray(0, 40),
      'truncated header: it declares 118 header bytes, the file has 30',
    ],
    ['a header that is not a dict', npyBytes('', [], body, { header: "['descr', '<f4']" }), 'the header is not a dict'],
    [
      'a header without shape',
      npyBytes('', [], body, { header: "{'descr': '<f4', 'fortran_order': False}" }),
      "no 'shape' key",
    ],
    [
      'a garbled header',
      npyBytes('', [], body, { header: "{'descr': '<f4', 'shape': (6,, }" }),
      'the header is not a Python dict literal',
    ],
    [
      'truncated data',
      npyBytes('<f4', [2, 3], body).subarray(0, 128 + 20),
      'truncated: the header declares shape (2, 3) of <f4 = 24 bytes of data, the file has 20',
    ],
    [
      'trailing data',
      npyBytes('<f4', [2, 2], body),
      'trailing data: the header declares shape (2, 2) of <f4 = 16 bytes of data, the file has 24 (8 extra)',
    ],
    [
      'Fortran order',
      npyBytes('<f4', [2, 3], body, { fortran: true }),
      'Fortran (column-major) order; expected C order',
    ],
    ['an object array', npyBytes('|O', [2], new Uint8Array(16)), 'dtype object (|O) holds pickled Python objects'],
    ['complex numbers', npyBytes('<c8', [3], new Uint8Array(24)), "dtype '<c8' (complex) is not supported"],
    [
      'a structured dtype',
      npyBytes('', [], body, { header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }" }),
      'structured dtype',
    ],
    ['float16', npyBytes('<f2', [6], new Uint8Array(12)), "dtype '<f2' (unknown) is not supported"],
  ])('rejects %s, naming the file', async (_, bytes, message) => {
    const err = await expectDatasetError(() => parseNpy(bytes, 'bad.npy', '/data/bad.npy'), /^bad\.npy: /, message);
    expect(err.location?.file).toBe('/data/bad.npy');
  });
});

describe('dataset fields of other kinds', () => {
  it('are errors, not silently ignored', async () => {
    await expectDatasetError(
      () => loadDataset({ name: 'cifar', path: 'x', size: [8, 8] }, { baseDir: join(tempDir()) }),
      "dataset.size applies to dataset images only, not 'cifar'",
    );
    await expectDatasetError(
      () => loadDataset({ name: 'idx', path: 'x', arrays: { x_train: 'a' } }),
      "dataset.arrays applies to dataset npy and npz only, not 'idx'",
    );
  });
});
