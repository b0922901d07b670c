/**
 * The `cifar` builder: the "binary version" of CIFAR-10 and CIFAR-100 as the Toronto page
 * publishes it. CIFAR-10 (`cifar-10-batches-bin/`): data_batch_1..5.bin and test_batch.bin, each
 * record 1 label byte + 3072 pixel bytes; names in batches.meta.txt. CIFAR-100
 * (`cifar-100-binary/`): train.bin and test.bin, each record a coarse and a fine label byte + 3072
 * pixel bytes; names in coarse_label_names.txt and fine_label_names.txt. Pixels are 1024 red, then
 * 1024 green, then 1024 blue bytes, each plane a row-major 32×32 image.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasetError } from '@squash/core';
import { filesUnder } from './files.js';
import type { Dataset, DatasetBuilder, DatasetSpec, Split } from './dataset.js';
import { BYTE_SCALE } from './npy_convert.js';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const PIXELS = 3 * PLANE;

interface Variant {
  name: 'CIFAR-10' | 'CIFAR-100';
  train: string[];
  test: string;
  /** Label bytes before the pixels; `labelAt` is the one used. */
  labelBytes: number;
  labelAt: number;
  numClasses: number;
  namesFile: string;
}

/** The subdirectories the published archives unpack to, so `path` may name the download folder. */
const ARCHIVE_DIRS = ['cifar-10-batches-bin', 'cifar-100-binary'];

const BATCH = /^data_batch_(\d+)\.bin$/;

function detect(dir: string, spec: DatasetSpec): Variant {
  const files = readdirSync(dir);
  const batches = files
    .map((f) => BATCH.exec(f))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const has = (f: string): boolean => files.includes(f);
  const coarse = spec.labels === 'coarse';
  if (batches.length > 0 || has('test_batch.bin')) {
    if (spec.labels !== undefined) {
      throw new DatasetError(`dataset.labels applies to CIFAR-100 only; ${dir} holds CIFAR-10 (data_batch_N.bin)`, {
        location: { path: 'dataset.labels' },
      });
    }
    if (batches.length === 0) {
      throw new DatasetError(`no training batches in ${dir}: expected data_batch_1.bin … data_batch_5.bin`, {
        location: { file: dir },
      });
    }
    const gap = batches.findIndex((n, i) => n !== i + 1);
    if (gap >= 0) {
      throw new DatasetError(
        `data_batch_${gap + 1}.bin is missing in ${dir} (found ${batches.map((n) => `data_batch_${n}.bin`).join(', ')})`,
        {
          location: { file: dir },
          hint: 'the training batches are numbered from 1 without gaps, as CIFAR-10 ships them',
        },
      );
    }
    return {
      name: 'CIFAR-10',
      train: batches.map((n) => `data_batch_${n}.bin`),
      test: 'test_batch.bin',
      labelBytes: 1,
      labelAt: 0,
      numClasses: 10,
      namesFile: 'batches.meta.txt',
    };
  }
  if (has('train.bin') || has('test.bin')) {
    return {
      name: 'CIFAR-100',
      train: ['train.bin'],
      test: 'test.bin',
      labelBytes: 2,
      labelAt: coarse ? 0 : 1,
      numClasses: coarse ? 20 : 100,
      namesFile: coarse ? 'coarse_label_names.txt' : 'fine_label_names.txt',
    };
  }
  throw new DatasetError(`${dir} holds no CIFAR binary batches`, {
    location: { file: dir },
    hint:
      'expected CIFAR-10 data_batch_1.bin … data_batch_5.bin and test_batch.bin, or CIFAR-100 train.bin and test.bin' +
      ' (the "binary version" downloads)',
  });
}

/** Reads each file whole and decodes its records into one preallocated split. */
function readSplit(dir: string, files: string[], v: Variant): Split {
  const record = v.labelBytes + PIXELS;
  const sizes = files.map((f) => {
    const path = join(dir, f);
    if (!existsSync(path)) {
      throw new DatasetError(`missing ${f} in ${dir}`, {
        location: { file: dir },
        hint: `${v.name} needs ${[...v.train, v.test].join(', ')}`,
      });
    }
    const size = statSync(path).size;
    const unit = `the ${record}-byte record (${v.labelBytes === 1 ? '1 label byte' : 'coarse and fine label bytes'} + ${PIXELS} pixel bytes)`;
    if (size === 0) {
      throw new DatasetError(`${f} is empty; expected records of ${unit}`, { location: { file: path } });
    }
    if (size % record !== 0) {
      throw new DatasetError(
        `${f} is ${size} bytes, not a multiple of ${unit}: ${Math.floor(size / record)} whole records and` +
          ` ${size % record} bytes left over`,
        { location: { file: path }, hint: 'the file may be truncated, or not the binary (not the Python) version' },
      );
    }
    return size / record;
  });
  const count = sizes.reduce((a, b) => a + b, 0);
  const x = new Float32Array(count * PIXELS);
  const y = new Uint8Array(count);
  let n = 0;
  for (const f of files) {
    const path = join(dir, f);
    const bytes = readFileSync(path);
    const records = bytes.length / record;
    for (let r = 0; r < records; r++, n++) {
      const at = r * record;
      const label = bytes[at + v.labelAt]!;
      if (label >= v.numClasses) {
        const which = v.labelBytes === 1 ? 'label' : v.labelAt === 0 ? 'coarse label' : 'fine label';
        throw new DatasetError(
          `${f}: record ${r} has ${which} ${label}; ${v.name} labels are 0 to ${v.numClasses - 1}`,
          { location: { file: path } },
        );
      }
      y[n] = label;
      // Channel planes (R, G, B) → channels-last pixels.
      const src = at + v.labelBytes;
      const dst = n * PIXELS;
      for (let c = 0; c < 3; c++) {
        const plane = src + c * PLANE;
        for (let p = 0; p < PLANE; p++) x[dst + 3 * p + c] = BYTE_SCALE[bytes[plane + p]!]!;
      }
    }
  }
  return { x, y, count };
}

/** One name per line; blank lines (batches.meta.txt ends with some) are dropped. */
function readNames(dir: string, v: Variant): string[] | undefined {
  const path = join(dir, v.namesFile);
  if (!existsSync(path)) return undefined;
  const names = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (names.length !== v.numClasses) {
    throw new DatasetError(`${v.namesFile} names ${names.length} classes; ${v.name} has ${v.numClasses}`, {
      location: { file: path },
    });
  }
  return names;
}

/** The directory holding the batches: `path`, or the archive's own subdirectory inside it. */
function batchDir(path: string): string {
  const inner = ARCHIVE_DIRS.map((d) => join(path, d)).find((d) => existsSync(d) && statSync(d).isDirectory());
  return inner !== undefined && !readdirSync(path).some((f) => f.endsWith('.bin')) ? inner : path;
}

/** The files a CIFAR dataset reads (its identity): the batches and the label names, nothing else beside them. */
function cifarFiles(spec: DatasetSpec, root: string): string[] {
  try {
    const dir = batchDir(root);
    const v = detect(dir, spec);
    return [...v.train, v.test, v.namesFile].map((f) => join(dir, f)).filter((f) => existsSync(f));
  } catch {
    return filesUnder(root); // loading reports what is wrong
  }
}

export function loadCifarDirectory(path: string, spec: DatasetSpec): Dataset {
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new DatasetError(`dataset directory not found: ${path}`, {
      location: { file: path },
      hint: "a cifar dataset is the unpacked binary download's directory (cifar-10-batches-bin or cifar-100-binary)",
    });
  }
  const dir = batchDir(path);
  const v = detect(dir, spec);
  const classNames = readNames(dir, v);
  const ds: Dataset = {
    name: spec.name,
    inputShape: [SIDE, SIDE, 3],
    numClasses: v.numClasses,
    train: readSplit(dir, v.train, v),
    test: readSplit(dir, [v.test], v),
    source: `${dir} (${v.name}${v.labelBytes === 2 ? `, ${spec.labels ?? 'fine'} labels` : ''})`,
  };
  if (classNames) ds.classNames = classNames;
  return ds;
}

export const cifarBuilder: DatasetBuilder = {
  description:
    'CIFAR-10 or CIFAR-100, binary version: data_batch_1..5.bin + test_batch.bin, or train.bin + test.bin (labels: fine | coarse)',
  files: cifarFiles,
  async load(spec, ctx) {
    if (spec.path === undefined || spec.path === '') {
      throw new DatasetError(`dataset '${spec.name}' needs a path to the unpacked CIFAR binary directory`, {
        location: { path: 'dataset.path' },
      });
    }
    if (spec.labels !== undefined && spec.labels !== 'fine' && spec.labels !== 'coarse') {
      throw new DatasetError(`dataset.labels must be fine or coarse, got ${JSON.stringify(spec.labels)}`, {
        location: { path: 'dataset.labels' },
      });
    }
    return loadCifarDirectory(resolve(ctx.baseDir, spec.path), spec);
  },
};
