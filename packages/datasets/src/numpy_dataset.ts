/**
 * The `npz` and `npy` builders: NumPy arrays x_train, y_train, x_test, y_test (the names
 * `keras.datasets.*.load_data()` unpacks to), in one `.npz` archive as `np.savez` or
 * `np.savez_compressed` write it, or as four `.npy` files in a directory.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { DatasetError } from '@squash/core';
import type { Dataset, DatasetBuilder, DatasetSpec, NumpyArrayNames } from './dataset.js';
import { dtypeName, parseNpy, type NpyArray } from './npy.js';
import { MAX_CLASSES, npyLabels, npyPixels, toChannelsLast } from './npy_convert.js';

export const ARRAY_ROLES = ['x_train', 'y_train', 'x_test', 'y_test'] as const;
export type ArrayRole = (typeof ARRAY_ROLES)[number];
export type NumpyArrays = Record<ArrayRole, NpyArray>;

function arrayNames(spec: DatasetSpec): Record<ArrayRole, string> {
  const given: NumpyArrayNames = spec.arrays ?? {};
  for (const key of Object.keys(given)) {
    if (!(ARRAY_ROLES as readonly string[]).includes(key)) {
      throw new DatasetError(`dataset.arrays.${key} is not an array role; expected ${ARRAY_ROLES.join(', ')}`, {
        location: { path: `dataset.arrays.${key}` },
      });
    }
  }
  return Object.fromEntries(ARRAY_ROLES.map((r) => [r, given[r] ?? r])) as Record<ArrayRole, string>;
}

const NAMING_HINT =
  'save with np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...) or map the names with dataset.arrays';

function expectFile(path: string, what: string): void {
  if (!existsSync(path)) throw new DatasetError(`${what} not found: ${path}`, { location: { file: path } });
  if (!statSync(path).isFile()) throw new DatasetError(`${what} is not a file: ${path}`, { location: { file: path } });
}

/** The four arrays of an `.npz` archive (a zip of `<name>.npy` entries, stored or deflated). */
export function readNpz(path: string, names: Record<ArrayRole, string>): NumpyArrays {
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new DatasetError(`${path} is a directory; dataset 'npz' reads one .npz file`, {
      location: { file: path },
      hint: "use dataset name 'npy' for a directory of .npy files",
    });
  }
  expectFile(path, '.npz file');
  const file = basename(path);
  const bytes = readFileSync(path);
  const fail = (msg: string, hint?: string): DatasetError =>
    new DatasetError(`${file}: ${msg}`, { location: { file: path }, hint });
  if (bytes.length >= 6 && bytes.subarray(0, 6).toString('latin1') === '\x93NUMPY') {
    throw fail(
      'this is a single .npy array, not an .npz archive',
      `use dataset name 'npy' with a directory of four .npy files, or ${NAMING_HINT}`,
    );
  }
  const wanted = new Set(Object.values(names).map((n) => `${n}.npy`));
  const entries: string[] = [];
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter(entry) {
        entries.push(entry.name);
        if (!wanted.has(entry.name)) return false;
        if (entry.compression !== 0 && entry.compression !== 8) {
          throw fail(
            `entry ${entry.name} uses zip compression method ${entry.compression}; expected stored (0) or` +
              ` deflated (8), as np.savez and np.savez_compressed write`,
          );
        }
        return true;
      },
    });
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    throw fail(`not a readable zip archive (an .npz is one): ${(e as Error).message}`);
  }
  const arrays = {} as NumpyArrays;
  for (const role of ARRAY_ROLES) {
    const entry = `${names[role]}.npy`;
    const data = files[entry];
    if (data === undefined) {
      const held = entries.length ? entries.join(', ') : 'no entries';
      throw fail(`no array '${names[role]}' (entry ${entry}) for ${role}; the archive holds ${held}`, NAMING_HINT);
    }
    arrays[role] = parseNpy(data, `${file}: ${entry}`, path);
  }
  return arrays;
}

/** The four arrays as `<name>.npy` files in `dir`. */
export function readNpyDirectory(dir: string, names: Record<ArrayRole, string>): NumpyArrays {
  if (existsSync(dir) && statSync(dir).isFile()) {
    throw new DatasetError(`${dir} is a file; dataset 'npy' reads a directory of four .npy files`, {
      location: { file: dir },
      hint: dir.endsWith('.npz') ? "use dataset name 'npz' for an .npz archive" : undefined,
    });
  }
  if (!existsSync(dir)) {
    throw new DatasetError(`dataset directory not found: ${dir}`, {
      location: { file: dir },
      hint: `it must hold ${ARRAY_ROLES.map((r) => `${names[r]}.npy`).join(', ')}`,
    });
  }
  const arrays = {} as NumpyArrays;
  for (const role of ARRAY_ROLES) {
    const path = join(dir, `${names[role]}.npy`);
    if (!existsSync(path)) {
      throw new DatasetError(`missing ${names[role]}.npy (the ${role} array) in ${dir}`, {
        location: { file: dir },
        hint: `an npy dataset directory holds ${ARRAY_ROLES.map((r) => `${names[r]}.npy`).join(', ')}; map other names with dataset.arrays`,
      });
    }
    expectFile(path, '.npy file');
    arrays[role] = parseNpy(readFileSync(path), basename(path), path);
  }
  return arrays;
}

const fail = (a: NpyArray, msg: string, hint?: string): DatasetError =>
  new DatasetError(`${a.source}: ${msg}`, { location: { file: a.file }, hint });

const shapeText = (s: number[]): string => `(${s.join(', ')})`;

/** Checks shapes, counts and labels of all four arrays first (cheap), then converts the pixels. */
export function numpyDataset(arrays: NumpyArrays, spec: DatasetSpec, source: string): Dataset {
  const { x_train: xTrain, y_train: yTrain, x_test: xTest, y_test: yTest } = arrays;
  const channelsFirst = spec.channelsFirst === true;
  for (const x of [xTrain, xTest]) checkImageShape(x, channelsFirst);
  if (shapeText(xTrain.shape.slice(1)) !== shapeText(xTest.shape.slice(1))) {
    throw fail(
      xTest,
      `test images have shape ${shapeText(xTest.shape)} but training images (${xTrain.source}) have` +
        ` ${shapeText(xTrain.shape)}; every sample must have the same shape`,
    );
  }
  for (const [x, y] of [
    [xTrain, yTrain],
    [xTest, yTest],
  ] as const) {
    checkLabelShape(y);
    if (x.shape[0] !== y.shape[0]) {
      throw fail(y, `${y.shape[0]} labels for ${x.shape[0]} images in ${x.source}; expected one label per image`);
    }
  }

  const declared = spec.numClasses;
  if (declared !== undefined && (!Number.isInteger(declared) || declared < 2 || declared > MAX_CLASSES)) {
    throw new DatasetError(`dataset.numClasses must be an integer from 2 to ${MAX_CLASSES}, got ${declared}`, {
      location: { path: 'dataset.numClasses' },
    });
  }
  const trainLabels = npyLabels(yTrain, declared, 'dataset.numClasses');
  // Like idx: without a declared count, the training labels set it (at least 2), and a test
  // label beyond it could never be predicted.
  const numClasses = declared ?? Math.max(2, maxOf(trainLabels) + 1);
  const testLabels = npyLabels(
    yTest,
    numClasses,
    declared === undefined ? `the class count implied by ${yTrain.source}` : 'dataset.numClasses',
  );

  const pixels = (x: NpyArray): Float32Array => (channelsFirst ? toChannelsLast(npyPixels(x), x.shape) : npyPixels(x));
  const sampleShape = xTrain.shape.slice(1);
  const inputShape = channelsFirst ? [sampleShape[1]!, sampleShape[2]!, sampleShape[0]!] : sampleShape;
  return {
    name: spec.name,
    inputShape,
    numClasses,
    train: { x: pixels(xTrain), y: trainLabels, count: xTrain.shape[0]! },
    test: { x: pixels(xTest), y: testLabels, count: xTest.shape[0]! },
    source,
  };
}

function checkImageShape(x: NpyArray, channelsFirst: boolean): void {
  const s = x.shape;
  const { kind, size } = x.dtype;
  if (!(kind === 'f' || (kind === 'u' && size === 1))) {
    throw fail(
      x,
      `image dtype ${dtypeName(x.dtype)} (${x.dtype.descr}) is not supported; expected uint8, float32 or float64`,
    );
  }
  const expected = channelsFirst
    ? 'expected (N, C, H, W) with dataset.channelsFirst'
    : 'expected (N, D), (N, H, W) or (N, H, W, C)';
  if (channelsFirst ? s.length !== 4 : s.length < 2 || s.length > 4) {
    throw fail(x, `images have shape ${shapeText(s)}; ${expected}`);
  }
  if (s[0] === 0) throw fail(x, `the array holds no samples: shape ${shapeText(s)}`);
  if (s.some((d) => d === 0)) throw fail(x, `images have an empty dimension: shape ${shapeText(s)}; ${expected}`);
}

function checkLabelShape(y: NpyArray): void {
  const s = y.shape;
  if (s.length === 1 || (s.length === 2 && s[1] === 1)) return;
  throw fail(
    y,
    `labels have shape ${shapeText(s)}; expected (N,) or (N, 1) integer class indices`,
    s.length === 2 ? 'one-hot labels: save y.argmax(axis=1) instead' : undefined,
  );
}

function maxOf(y: Uint8Array): number {
  let m = 0;
  for (const v of y) if (v > m) m = v;
  return m;
}

function needPath(spec: DatasetSpec, what: string): string {
  if (spec.path === undefined || spec.path === '') {
    throw new DatasetError(`dataset '${spec.name}' needs a path to ${what}`, { location: { path: 'dataset.path' } });
  }
  return spec.path;
}

export const npzBuilder: DatasetBuilder = {
  description: 'one NumPy .npz archive holding x_train, y_train, x_test, y_test (names configurable with arrays:)',
  async load(spec, ctx) {
    const path = resolve(ctx.baseDir, needPath(spec, 'an .npz file'));
    return numpyDataset(readNpz(path, arrayNames(spec)), spec, path);
  },
};

export const npyBuilder: DatasetBuilder = {
  description:
    'a directory of four NumPy .npy files x_train, y_train, x_test, y_test (names configurable with arrays:)',
  async load(spec, ctx) {
    const dir = resolve(ctx.baseDir, needPath(spec, 'a directory of .npy files'));
    return numpyDataset(readNpyDirectory(dir, arrayNames(spec)), spec, dir);
  },
};
