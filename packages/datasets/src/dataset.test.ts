import { describe, expect, it } from 'vitest';
import { datasetRegistry, loadDataset } from './index.js';
import { expectDatasetError } from './__tests__/fixtures.js';

describe('datasetRegistry', () => {
  it('holds the seven builders', () => {
    expect(datasetRegistry.names().sort()).toEqual(['cifar', 'idx', 'images', 'mnist', 'npy', 'npz', 'synthetic']);
    expect(datasetRegistry.get('synthetic').description).toMatch(/FOR FAST TESTS ONLY/);
  });

  it('re-running the registration module does not throw', async () => {
    // A plain import('./register_all.js') is answered from the module cache (index.js loaded it)
    // and runs nothing. The query makes a new module instance whose body runs again, against the
    // same registry (its own imports still come from the cache).
    const again = './register_all.js?evaluate-again';
    await expect(import(again)).resolves.toBeDefined();
    expect(datasetRegistry.names()).toHaveLength(7);
  });
});

describe('loadDataset', () => {
  it('rejects an unknown name, listing the known ones', async () => {
    const err = await expectDatasetError(
      () => loadDataset({ name: 'cifar10' }),
      "unknown dataset 'cifar10'",
      'idx, mnist, npz, npy, cifar, images, synthetic',
    );
    expect(err.location?.path).toBe('dataset.name');
  });

  it('keeps the first n samples of each split', async () => {
    const full = await loadDataset({ name: 'synthetic', samples: { train: 50, test: 20 } });
    const cut = await loadDataset({
      name: 'synthetic',
      samples: { train: 50, test: 20 },
      limits: { train: 7, test: 3 },
    });
    expect(cut.train.count).toBe(7);
    expect(cut.test.count).toBe(3);
    expect(cut.train.x.length).toBe(7 * 784);
    expect(cut.test.x.length).toBe(3 * 784);
    expect([...cut.train.y]).toEqual([...full.train.y.subarray(0, 7)]);
    expect([...cut.test.x]).toEqual([...full.test.x.subarray(0, 3 * 784)]);
  });

  it('limits only the split it names', async () => {
    const cut = await loadDataset({ name: 'synthetic', samples: { train: 50, test: 20 }, limits: { test: 5 } });
    expect(cut.train.count).toBe(50);
    expect(cut.test.count).toBe(5);
  });

  it('accepts a limit equal to the split size', async () => {
    const cut = await loadDataset({ name: 'synthetic', samples: { train: 50, test: 20 }, limits: { train: 50 } });
    expect(cut.train.count).toBe(50);
  });

  it.each([
    [{ train: 51 }, 'dataset.limits.train', 'is 51 but', 'only 50 train samples'],
    [{ test: 21 }, 'dataset.limits.test', 'is 21 but', 'only 20 test samples'],
    [{ train: 0 }, 'dataset.limits.train', 'positive integer, got 0'],
    [{ test: 2.5 }, 'dataset.limits.test', 'positive integer, got 2.5'],
    [{ train: -3 }, 'dataset.limits.train', 'positive integer, got -3'],
  ] as Array<[{ train?: number; test?: number }, string, ...string[]]>)(
    'rejects limits %j',
    async (limits, path, ...parts) => {
      const err = await expectDatasetError(
        () => loadDataset({ name: 'synthetic', samples: { train: 50, test: 20 }, limits }),
        path,
        ...parts,
      );
      expect(err.location?.path).toBe(path);
    },
  );
});
