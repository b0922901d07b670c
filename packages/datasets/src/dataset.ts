import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRegistry, DatasetError, stableHash } from '@squash/core';
import type { AugmentSpec } from './augment.js';
import { datasetFiles } from './files.js';
import { canonicalNormalize, type Normalization, type NormalizeSpec, normalizeSplits } from './normalize.js';

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
  /** The normalization applied to both splits (its statistics from the training split), when asked for. */
  normalization?: Normalization;
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
  /** Applied by `loadDataset` to both splits, statistics from the training split. */
  normalize?: NormalizeSpec;
  /** Training batches only: the trainer applies it (`batchAugmenter`); loading ignores it. */
  augment?: AugmentSpec;
  /**
   * Set when the experiment is read (never written by users): the content of the files `path`
   * names, which ids hash instead of the path (`datasetFingerprint`).
   */
  content?: { sha256: string; files: number; bytes: number };
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
  /**
   * Returns splits the caller owns: `loadDataset` caches them per process and may normalize them
   * in place, so a builder keeps no copy of its own.
   */
  load(spec: DatasetSpec, ctx: { baseDir: string }): Promise<Dataset>;
  /**
   * How ids name this kind: 'files' (default) by the content of the files under `path`; 'spec' by
   * the spec alone (data shipped with Squash, or generated).
   */
  identity?: 'files' | 'spec';
  /** The files under `root` (the resolved `path`) this kind reads, for its identity; default every file there. */
  files?(spec: DatasetSpec, root: string): string[];
  /** Where the data comes from, for the per-process cache; default the resolved `path`. */
  source?(spec: DatasetSpec, ctx: { baseDir: string }): string;
}

export const datasetRegistry = createRegistry<DatasetBuilder>('dataset');

/**
 * Decoded datasets of this process by source (kind, where, seed, samples, file sizes and times):
 * every trial, and every limit of the same data, shares one copy. Failures are not cached.
 */
const decoded = new Map<string, Promise<Dataset>>();
/** Normalized datasets by source, limits and normalization. */
const normalized = new Map<string, Promise<Dataset>>();

/** The cache key of the data a spec decodes to, or undefined when its files cannot be listed (the load will say why). */
function sourceKey(spec: DatasetSpec, builder: DatasetBuilder, ctx: { baseDir: string }): string | undefined {
  const where = builder.source?.(spec, ctx) ?? (spec.path !== undefined ? resolve(ctx.baseDir, spec.path) : undefined);
  let stamps: Array<[string, number, number]> = [];
  if (spec.path !== undefined && where !== undefined) {
    try {
      stamps = datasetFiles(builder, spec, where).map((f) => {
        const st = statSync(f);
        return [f, st.size, st.mtimeMs];
      });
    } catch {
      return undefined;
    }
  }
  // How the files are decoded (CIFAR-100's label set, an image size, array names) is part of what was decoded.
  const decoding = Object.fromEntries(Object.keys(KIND_FIELDS).map((k) => [k, spec[k as keyof DatasetSpec]]));
  return stableHash({ name: spec.name, where, seed: spec.seed, samples: spec.samples, stamps, decoding });
}

function cached(cache: Map<string, Promise<Dataset>>, key: string | undefined, make: () => Promise<Dataset>) {
  if (key === undefined) return make();
  let p = cache.get(key);
  if (!p) {
    p = make();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/**
 * Builds the dataset a spec names (decoded once per process, see `decoded`), cuts each split to
 * its `limits`, then normalizes both splits with statistics from the (cut) training split.
 */
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
  const builder = datasetRegistry.get(spec.name);
  const key = sourceKey(spec, builder, ctx);
  const norm = canonicalNormalize(spec.normalize);
  if (!norm) return limited(await cached(decoded, key, () => builder.load(spec, ctx)), spec);
  const normKey = key && stableHash({ key, limits: spec.limits, norm });
  const ds = await cached(normalized, normKey, async () => {
    const shared = key ? decoded.get(key) : undefined;
    // Data nobody else holds is normalized where it lies, and not kept unnormalized: one copy in memory.
    const ds = limited(await (shared ?? builder.load(spec, ctx)), spec);
    const out = normalizeSplits(ds.train, ds.test, ds.inputShape, spec.normalize!, { inPlace: !shared });
    return { ...ds, train: out.train, test: out.test, normalization: out.normalization };
  });
  return { ...ds };
}

/** A new object holding views of the splits cut to `limits`: the cached dataset stays whole. */
function limited(ds: Dataset, spec: DatasetSpec): Dataset {
  const { train, test } = spec.limits ?? {};
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
