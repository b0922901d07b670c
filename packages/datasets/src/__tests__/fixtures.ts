/** Hand-built IDX bytes and directories for the tests (kept out of the build by tsconfig). */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { DatasetError } from '@squash/core';

/** Header (00 00 type ndims, big-endian dims) followed by `body` verbatim. */
export function idxBytes(typeCode: number, dims: number[], body: Uint8Array | number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(head.buffer);
  head[2] = typeCode;
  head[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  return Buffer.concat([head, Uint8Array.from(body)]);
}

/** Big-endian encoding written byte by byte, independent of the code under test. */
export function bigEndian(kind: 'int16' | 'int32' | 'float32' | 'float64', values: number[]): Uint8Array {
  const size = { int16: 2, int32: 4, float32: 4, float64: 8 }[kind];
  const v = new DataView(new ArrayBuffer(size * values.length));
  values.forEach((x, i) => {
    if (kind === 'int16') v.setInt16(i * size, x, false);
    if (kind === 'int32') v.setInt32(i * size, x, false);
    if (kind === 'float32') v.setFloat32(i * size, x, false);
    if (kind === 'float64') v.setFloat64(i * size, x, false);
  });
  return new Uint8Array(v.buffer);
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'squash-datasets-'));

export const uint8Images = (count: number, rows: number, cols: number, fill = (i: number) => i % 256): Uint8Array =>
  idxBytes(
    0x08,
    [count, rows, cols],
    Array.from({ length: count * rows * cols }, (_, i) => fill(i)),
  );

export const uint8Labels = (labels: number[]): Uint8Array => idxBytes(0x08, [labels.length], labels);

export interface DirFiles {
  [file: string]: Uint8Array | undefined;
}

/** A valid small idx directory (6 train / 3 test images of 2×3, classes 0..2) with overrides. */
export function writeIdxDir(overrides: DirFiles = {}, opts: { gzip?: boolean; dir?: string } = {}): string {
  const dir = opts.dir ?? tempDir();
  mkdirSync(dir, { recursive: true });
  const files: DirFiles = {
    'train-images-idx3-ubyte': uint8Images(6, 2, 3),
    'train-labels-idx1-ubyte': uint8Labels([0, 1, 2, 0, 1, 2]),
    't10k-images-idx3-ubyte': uint8Images(3, 2, 3, (i) => 255 - i),
    't10k-labels-idx1-ubyte': uint8Labels([2, 1, 0]),
    ...overrides,
  };
  for (const [name, bytes] of Object.entries(files)) {
    if (bytes === undefined) continue;
    if (opts.gzip) writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
    else writeFileSync(join(dir, name), bytes);
  }
  return dir;
}

/** Runs `fn`, requiring a DatasetError with exit code 2 whose message contains every `part`. */
export async function expectDatasetError(fn: () => unknown, ...parts: (string | RegExp)[]): Promise<DatasetError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a DatasetError to be thrown').toBeInstanceOf(DatasetError);
  const err = caught as DatasetError;
  expect(err.exitCode).toBe(2);
  for (const p of parts) {
    if (typeof p === 'string') expect(err.message).toContain(p);
    else expect(err.message).toMatch(p);
  }
  return err;
}
