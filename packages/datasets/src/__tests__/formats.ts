/** Files in the published layouts of NumPy, CIFAR and image folders, written for the tests. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as writers from '../writers.js';

import { npyBytes } from '../writers.js';

export { npyBytes };

export const FIXTURES = fileURLToPath(new URL('../__fixtures__/', import.meta.url));

/** True when `python3` can import NumPy, so the tests can have NumPy itself write files. */
export const HAS_NUMPY = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** Runs the fixture generator with the installed NumPy into `dir`. */
export function writeNumpyFixtures(dir: string): void {
  const r = spawnSync('python3', [join(FIXTURES, 'make_fixtures.py'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make_fixtures.py failed: ${r.stderr}`);
}

/** The fixture formula (see make_fixtures.py): element k of a float image array, and of a uint8 one. */
export const floatAt = (k: number): number => (k % 251) / 250;
export const byteAt = (k: number): number => k % 256;
export const trainLabel = (i: number): number => i % 3;
export const testLabel = (i: number): number => (2 * i + 1) % 3;

export const f32 = (values: ArrayLike<number>): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
export const i64 = (values: number[]): Uint8Array => new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
export const u8 = (values: ArrayLike<number>): Uint8Array => Uint8Array.from(values);

export interface NpzArrays {
  [name: string]: Uint8Array;
}

/** An .npz archive of `<name>.npy` entries; level 0 stores them, as np.savez does. */
export const npzBytes = (entries: NpzArrays, level: 0 | 6 = 0): Uint8Array =>
  writers.npzBytes(entries, { compress: level > 0 });

/** The four standard arrays of a small valid dataset: 4×4×3 float32 images, int64 labels 0..2. */
export function standardArrays(train = 9, test = 3): NpzArrays {
  const width = 48;
  const xs = (n: number): Uint8Array => f32(Array.from({ length: n * width }, (_, k) => floatAt(k)));
  return {
    'x_train.npy': npyBytes('<f4', [train, 4, 4, 3], xs(train)),
    'y_train.npy': npyBytes('<i8', [train], i64(Array.from({ length: train }, (_, i) => trainLabel(i)))),
    'x_test.npy': npyBytes('<f4', [test, 4, 4, 3], xs(test)),
    'y_test.npy': npyBytes('<i8', [test], i64(Array.from({ length: test }, (_, i) => testLabel(i)))),
  };
}

export const writeFiles = writers.writeTree;

/**
 * One CIFAR binary file: per record the label byte(s), then the 32×32 red plane, green plane and
 * blue plane. `pixel(i, c, p)` gives record i's channel c at row-major position p.
 */
export function cifarBatch(labels: number[][], pixel: (i: number, c: number, p: number) => number): Uint8Array {
  const lb = labels[0]?.length ?? 1;
  const rec = lb + 3072;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((ls, i) => {
    out.set(ls, i * rec);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[i * rec + lb + c * 1024 + p] = pixel(i, c, p);
  });
  return out;
}

export const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** An RGB image file of `h`×`w` with `rgb(y, x)` per pixel, encoded by sharp. */
export async function imageFile(
  h: number,
  w: number,
  rgb: (y: number, x: number) => [number, number, number],
  format: 'png' | 'jpeg' = 'png',
): Promise<Buffer> {
  const raw = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(rgb(y, x), (y * w + x) * 3);
  return writers.encodeImage(raw, h, w, 3, format);
}
