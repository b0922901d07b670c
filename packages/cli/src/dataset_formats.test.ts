/**
 * `squash run` on broken data in each format: exit 2, a message naming the file and what was
 * expected, no stack, and nothing written; the same files, fixed, run.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cifarRecords, encodeImage, npyBytes, npyOf, npzBytes, writeTree } from '@squash/datasets/writers';
import { BIN, ENV, STACK, workspace } from './__tests__/processes.js';

const experiment = (dataset: string, classes: number) => `name: formats
model: { name: m, layers: [{ type: flatten }, { type: dense, units: ${classes}, activation: softmax }] }
dataset: ${dataset}
train: { epochs: 1 }
sweeps:
  - name: grid
    stages:
      - prune-weights: { retention: [0.5] }
`;

type Files = Record<string, Uint8Array | string>;

// --- npz: 8 train / 4 test 2×2×3 uint8 images, labels 0..2 -------------------------------------
const labels = (n: number) =>
  npyOf(
    BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3)),
    [n],
  );
const pixels = (n: number) =>
  npyOf(
    Uint8Array.from({ length: n * 12 }, (_, i) => (i * 17) % 256),
    [n, 2, 2, 3],
  );
const ARRAYS: Record<string, Uint8Array> = {
  'x_train.npy': pixels(8),
  'y_train.npy': labels(8),
  'x_test.npy': pixels(4),
  'y_test.npy': labels(4),
};
const npz = (overrides: Record<string, Uint8Array>): Files => ({ 'data.npz': npzBytes({ ...ARRAYS, ...overrides }) });
const { 'y_test.npy': _, ...withoutYTest } = ARRAYS;

// --- cifar: CIFAR-10 batches of 2 records ---------------------------------------------------------
const batch = (n: number) =>
  cifarRecords(
    Array.from({ length: n }, (_, i) => [i % 3]),
    Uint8Array.from({ length: n * 3072 }, (_, i) => i % 251),
  );
const CIFAR: Files = Object.fromEntries([
  ...[1, 2, 3, 4, 5].map((b) => [`data_batch_${b}.bin`, batch(2)]),
  ['test_batch.bin', batch(2)],
]);

// --- images: train/{a,b}, test/{a,b}, 4×4 PNGs ---------------------------------------------------
const png = (h: number, w: number, v: number) => encodeImage(new Uint8Array(h * w * 3).fill(v), h, w, 3);
async function images(overrides: Files = {}): Promise<Files> {
  return {
    'train/a/1.png': await png(4, 4, 10),
    'train/a/2.png': await png(4, 4, 20),
    'train/b/1.png': await png(4, 4, 200),
    'train/b/2.png': await png(4, 4, 220),
    'test/a/1.png': await png(4, 4, 15),
    'test/b/1.png': await png(4, 4, 210),
    ...overrides,
  };
}

interface Case {
  name: string;
  dataset: string;
  classes: number;
  files: () => Promise<Files>;
  message: RegExp;
}

const NPZ = '{ name: npz, path: data/data.npz }';
const BROKEN: Case[] = [
  {
    name: 'npz: a truncated .npy entry',
    dataset: NPZ,
    classes: 3,
    files: async () => npz({ 'x_train.npy': ARRAYS['x_train.npy']!.subarray(0, 140) }),
    message:
      /data\.npz: x_train\.npy: truncated: the header declares shape \(8, 2, 2, 3\) of \|u1 = 96 bytes of data, the file has 12/,
  },
  {
    name: 'npz: an object array',
    dataset: NPZ,
    classes: 3,
    files: async () => npz({ 'y_train.npy': npyBytes('|O', [8], new Uint8Array(64)) }),
    message: /data\.npz: y_train\.npy: dtype object \(\|O\) holds pickled Python objects/,
  },
  {
    name: 'npz: a zip without y_test',
    dataset: NPZ,
    classes: 3,
    files: async () => ({ 'data.npz': npzBytes(withoutYTest) }),
    message:
      /data\.npz: no array 'y_test' \(entry y_test\.npy\) for y_test; the archive holds x_train\.npy, y_train\.npy, x_test\.npy/,
  },
  {
    name: 'npy: a negative label',
    dataset: '{ name: npy, path: data }',
    classes: 3,
    files: async () => ({
      ...ARRAYS,
      'y_train.npy': npyOf(BigInt64Array.from([0n, 1n, 2n, -3n, 0n, 1n, 2n, 0n]), [8]),
    }),
    message: /y_train\.npy: label -3 at index 3 is out of range/,
  },
  {
    name: 'cifar: a batch whose length is not a multiple of 3073',
    dataset: '{ name: cifar, path: data }',
    classes: 10,
    files: async () => ({ ...CIFAR, 'data_batch_4.bin': batch(2).subarray(0, 5000) }),
    message:
      /data_batch_4\.bin is 5000 bytes, not a multiple of the 3073-byte record .*: 1 whole records and 1927 bytes left over/,
  },
  {
    name: 'images: an image of the wrong size, not resizing',
    dataset: '{ name: images, path: data, size: [4, 4], resize: false }',
    classes: 2,
    files: async () => images({ 'test/b/2.png': await png(4, 5, 0) }),
    message: /test\/b\/2\.png is 4×5 \(height×width\); expected 4×4 \(dataset\.size with resize: false\)/,
  },
  {
    name: 'images: a corrupt PNG',
    dataset: '{ name: images, path: data }',
    classes: 2,
    files: async () => images({ 'train/b/3.png': (await png(4, 4, 0)).subarray(0, 30) }),
    message: /train\/b\/3\.png: cannot decode the image/,
  },
  {
    name: 'images: a test class not in train',
    dataset: '{ name: images, path: data }',
    classes: 2,
    files: async () => images({ 'test/c/1.png': await png(4, 4, 0) }),
    message: /test\/c is not a class of train\/ \(a, b\)/,
  },
];

/** Not spawnSync: the cases run concurrently. */
function squashRun(dir: string, quiet = false): Promise<{ status: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, 'run', 'e.yaml', ...(quiet ? ['--quiet'] : [])], {
      cwd: dir,
      env: ENV,
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (status) => done({ status, stderr }));
  });
}

function workspaceWith(dataset: string, classes: number, files: Files): string {
  const dir = workspace(experiment(dataset, classes));
  writeTree(join(dir, 'data'), files);
  return dir;
}

describe.concurrent('broken data in each format: exit 2, the file and what was expected, nothing written', () => {
  it.each(BROKEN)('$name', async ({ dataset, classes, files, message }) => {
    const dir = workspaceWith(dataset, classes, await files());
    const r = await squashRun(dir);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.status).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['data', 'e.yaml']);
  });

  it.each([
    { name: 'npz', dataset: NPZ, classes: 3, files: async () => npz({}) },
    { name: 'cifar', dataset: '{ name: cifar, path: data }', classes: 10, files: async () => CIFAR },
    { name: 'images', dataset: '{ name: images, path: data }', classes: 2, files: () => images() },
  ])('the same $name input, fixed, runs', async ({ dataset, classes, files }) => {
    const r = await squashRun(workspaceWith(dataset, classes, await files()), true);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
