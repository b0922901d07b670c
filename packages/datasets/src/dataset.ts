import { createRegistry, DatasetError } from '@squash/core';

/**
 * One split, row-major and channels-last: `x` holds `count × product(inputShape)` values, `y` the
 * labels. Pixels read from bytes are in [0, 1]; float arrays (npy/npz) are kept as their file has
 * them. Splits may be shared between trials (see the mnist cache), so treat them as read-only.
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
  /** The name of each class, by label, when the files name them (CIFAR's label files, image folders). */
  classNames?: string[];
}

/** The arrays of an npy/npz dataset, by role; each maps to the array's name in the file. */
export interface NumpyArrayNames {
  x_train?: string;
  y_train?: string;
  x_test?: string;
  y_test?: string;
}

export interface DatasetSpec {
  name: string;
  path?: string;
  limits?: { train?: number; test?: number };
  seed?: number;
  /** Synthetic only. */
  samples?: { train?: number; test?: number };
  /** npy/npz: the array names, when not x_train, y_train, x_test, y_test. */
  arrays?: NumpyArrayNames;
  /** npy/npz: the class count, when it is more than the largest training label + 1. */
  numClasses?: number;
  /** npy/npz: images are stored [N, C, H, W] (PyTorch's order) and are transposed to channels-last. */
  channelsFirst?: boolean;
  /** cifar: CIFAR-100's fine (100 classes, the default) or coarse (20 superclasses) labels. */
  labels?: 'fine' | 'coarse';
  /** images: [height, width] every image is resized to (or, with `resize: false`, must have). */
  size?: [number, number];
  /** images: 1 decodes to grayscale, 3 (the default) to RGB. */
  channels?: 1 | 3;
  /** images: false checks the declared `size` instead of resizing to it. */
  resize?: boolean;
}

/**
 * Fields that belong to some dataset kinds only. A field given to another kind would be silently
 * ignored, which hides a typo in `name:` or a misplaced option, so it is an error instead.
 */
const KIND_FIELDS: Record<string, readonly string[]> = {
  arrays: ['npy', 'npz'],
  numClasses: ['npy', 'npz'],
  channelsFirst: ['npy', 'npz'],
  labels: ['cifar'],
  size: ['images'],
  channels: ['images'],
  resize: ['images'],
};

function checkKindFields(spec: DatasetSpec): void {
  for (const [field, kinds] of Object.entries(KIND_FIELDS)) {
    if ((spec as unknown as Record<string, unknown>)[field] === undefined || kinds.includes(spec.name)) continue;
    throw new DatasetError(`dataset.${field} applies to dataset ${kinds.join(' and ')} only, not '${spec.name}'`, {
      location: { path: `dataset.${field}` },
    });
  }
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
  checkKindFields(spec);
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
