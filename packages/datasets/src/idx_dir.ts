/** The `idx` builder: a directory laid out like the original MNIST download. */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DatasetError } from '@squash/core';
import type { Dataset, DatasetBuilder, Split } from './dataset.js';
import { readIdx, type IdxArray } from './idx.js';

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const EXPECTED = Object.values(IDX_FILES).join(', ');

function expectDirectory(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DatasetError(`dataset directory not found: ${dir}`, {
      location: { file: dir },
      hint: `it must hold ${EXPECTED} (each optionally .gz)`,
    });
  }
}

/** The four files an idx directory is read from (each plain, else .gz), in a fixed order. */
export function idxFiles(dir: string): string[] {
  expectDirectory(dir);
  return Object.values(IDX_FILES).map((base) => findFile(dir, base));
}

/** Loads and checks the four standard IDX files in `dir`; pixels are scaled to [0, 1]. */
export function loadIdxDirectory(dir: string, name: string): Dataset {
  expectDirectory(dir);
  const train = loadSplit(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels);
  const test = loadSplit(dir, IDX_FILES.testImages, IDX_FILES.testLabels);

  const shape = (s: LoadedSplit): string => s.inputShape.join('×');
  if (shape(train) !== shape(test)) {
    throw new DatasetError(`train images are ${shape(train)} but test images are ${shape(test)} in ${dir}`, {
      location: { file: dir },
    });
  }

  // Class count comes from the training labels; a test label beyond it could never be predicted.
  const numClasses = Math.max(2, maxLabel(train.split.y) + 1);
  const badAt = test.split.y.findIndex((l) => l >= numClasses);
  if (badAt >= 0) {
    throw new DatasetError(
      `${IDX_FILES.testLabels}: label ${test.split.y[badAt]} at index ${badAt} is not below` +
        ` ${numClasses}, the class count implied by ${IDX_FILES.trainLabels}`,
      { location: { file: test.labelsPath } },
    );
  }
  return { name, inputShape: train.inputShape, numClasses, train: train.split, test: test.split, source: dir };
}

interface LoadedSplit {
  split: Split;
  inputShape: number[];
  labelsPath: string;
}

function loadSplit(dir: string, imagesName: string, labelsName: string): LoadedSplit {
  const imagesPath = findFile(dir, imagesName);
  const labelsPath = findFile(dir, labelsName);
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  expectUint8(images, 3, imagesPath, 'images (count × rows × cols)');
  expectUint8(labels, 1, labelsPath, 'labels (count)');

  const count = images.dims[0];
  if (labels.dims[0] !== count) {
    throw new DatasetError(`${imagesName} has ${count} images but ${labelsName} has ${labels.dims[0]} labels`, {
      location: { file: dir },
    });
  }
  if (count < 1) {
    throw new DatasetError(`${imagesName} holds no images`, { location: { file: imagesPath } });
  }
  const pixels = images.data as Uint8Array;
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = pixels[i] / 255;
  return { split: { x, y: labels.data as Uint8Array, count }, inputShape: images.dims.slice(1), labelsPath };
}

/** The plain file wins over `.gz` when both exist, matching what a user who unpacked would expect. */
function findFile(dir: string, base: string): string {
  for (const candidate of [base, `${base}.gz`]) {
    const p = join(dir, candidate);
    if (existsSync(p)) return p;
  }
  throw new DatasetError(`missing ${base} (or ${base}.gz) in ${dir}`, {
    location: { file: dir },
    hint: `an idx dataset directory must hold ${EXPECTED} (each optionally .gz)`,
  });
}

function expectUint8(a: IdxArray, ndims: number, path: string, what: string): void {
  if (a.dtype !== 'uint8' || a.dims.length !== ndims) {
    throw new DatasetError(
      `${basename(path)}: expected ${ndims}-D uint8 ${what}, found ${a.dims.length}-D ${a.dtype}` +
        ` (${a.dims.join('×')})`,
      { location: { file: path } },
    );
  }
}

function maxLabel(y: Uint8Array): number {
  let m = 0;
  for (const l of y) if (l > m) m = l;
  return m;
}

export const idxBuilder: DatasetBuilder = {
  description: 'a directory with the four MNIST-layout IDX files (train/t10k images and labels, optionally .gz)',
  files: (_spec, root) => idxFiles(root),
  async load(spec, ctx) {
    if (spec.path === undefined || spec.path === '') {
      throw new DatasetError(`dataset '${spec.name}' needs a path to a directory holding ${EXPECTED}`, {
        location: { path: 'dataset.path' },
      });
    }
    return loadIdxDirectory(resolve(ctx.baseDir, spec.path), spec.name);
  },
};
