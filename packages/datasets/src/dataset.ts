import { createRegistry, DatasetError } from '@squash/core';

/**
 * One split, row-major: `x` holds `count × product(inputShape)` values in [0, 1], `y` the labels.
 * Splits may be shared between trials (see the mnist cache), so treat them as read-only.
 */
export interface Split {
  x: Float32Array;
  y: Uint8Array;
  count: number;
}

export interface Dataset {
  name: string;
  inputShape: number[];
  numClasses: number;
  train: Split;
  test: Split;
  /** Human description of where the data came from, e.g. the directory. */
  source: string;
}

export interface DatasetSpec {
  name: string;
  path?: string;
  limits?: { train?: number; test?: number };
  seed?: number;
  /** Synthetic only. */
  samples?: { train?: number; test?: number };
}

export interface DatasetBuilder {
  description: string;
  load(spec: DatasetSpec, ctx: { baseDir: string }): Promise<Dataset>;
}

export const datasetRegistry = createRegistry<DatasetBuilder>('dataset');

/** Builds the dataset a spec names, then cuts each split to its `limits`. */
export async function loadDataset(
  spec: DatasetSpec,
  ctx: { baseDir: string } = { baseDir: process.cwd() },
): Promise<Dataset> {
  if (!datasetRegistry.has(spec.name)) {
    throw new DatasetError(`unknown dataset '${spec.name}'; known: ${datasetRegistry.names().join(', ')}`, {
      location: { path: 'dataset.name' },
    });
  }
  const ds = await datasetRegistry.get(spec.name).load(spec, ctx);
  const { train, test } = spec.limits ?? {};
  // A new object, because builders may hand out a cached dataset that other trials also use.
  return {
    ...ds,
    train: limitSplit(ds.train, train, 'train', ds),
    test: limitSplit(ds.test, test, 'test', ds),
  };
}

/** Keeps the first `n` samples, so a limited run sees the same data every time. */
function limitSplit(split: Split, n: number | undefined, which: 'train' | 'test', ds: Dataset): Split {
  if (n === undefined) return split;
  const path = `dataset.limits.${which}`;
  if (!Number.isInteger(n) || n < 1) {
    throw new DatasetError(`${path} must be a positive integer, got ${n}`, { location: { path } });
  }
  if (n > split.count) {
    throw new DatasetError(`${path} is ${n} but dataset '${ds.name}' has only ${split.count} ${which} samples`, {
      location: { path },
      hint: `use at most ${split.count} or drop the limit`,
    });
  }
  const width = ds.inputShape.reduce((a, b) => a * b, 1);
  // Views, not copies: the full split stays alive in the cache anyway.
  return { x: split.x.subarray(0, n * width), y: split.y.subarray(0, n), count: n };
}
