/** IDX (LeCun's MNIST format) of unsigned bytes: magic 00 00 08 ndims, big-endian u32 dims, the body. */
export function idxBytes(dims: number[], body: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(body instanceof Uint8Array ? body : Uint8Array.from(body), 4 + 4 * dims.length);
  return out;
}

/**
 * Writers for the layouts the readers take (`@squash/datasets/writers`), for tests and benchmarks
 * that need real files: `.npy` bytes as NumPy lays them out, `.npz` archives, CIFAR binary
 * records and encoded images. Written from the published formats, not from the readers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';

export interface NpyOptions {
  version?: 1 | 2 | 3;
  fortran?: boolean;
  /** Replaces the header dict verbatim (for broken files). */
  header?: string;
}

/**
 * A `.npy` file: magic, version, little-endian header length, the header dict padded with spaces
 * and ended by a newline so the data starts at a multiple of 64 (as NumPy pads it), then `body`.
 */
export function npyBytes(descr: string, shape: number[], body: Uint8Array, opts: NpyOptions = {}): Uint8Array {
  const version = opts.version ?? 1;
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const fortran = opts.fortran ? 'True' : 'False';
  const dict = opts.header ?? `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${tuple}, }`;
  const pre = version === 1 ? 10 : 12;
  const text = Buffer.from(dict, version === 3 ? 'utf8' : 'latin1');
  const padded = Buffer.concat([text, Buffer.from(`${' '.repeat(63 - ((pre + text.length) % 64))}\n`)]);
  const head = new Uint8Array(pre);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(head.buffer);
  if (version === 1) v.setUint16(8, padded.length, true);
  else v.setUint32(8, padded.length, true);
  return Buffer.concat([head, padded, body]);
}

type NumericArray = Float32Array | Float64Array | Uint8Array | Int32Array | BigInt64Array;

const DESCR = new Map<unknown, string>([
  [Float32Array, '<f4'],
  [Float64Array, '<f8'],
  [Uint8Array, '|u1'],
  [Int32Array, '<i4'],
  [BigInt64Array, '<i8'],
]);

/** A typed array as a little-endian `.npy` of `shape`. */
export function npyOf(data: NumericArray, shape: number[]): Uint8Array {
  const descr = DESCR.get(data.constructor);
  if (descr === undefined) throw new Error(`npyOf: unsupported array type ${data.constructor.name}`);
  if (shape.reduce((a, b) => a * b, 1) !== data.length) {
    throw new Error(`npyOf: shape (${shape.join(', ')}) does not hold ${data.length} elements`);
  }
  return npyBytes(descr, shape, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** An `.npz`: a zip of `<name>.npy` entries, stored as np.savez writes them or deflated as np.savez_compressed. */
export function npzBytes(entries: Record<string, Uint8Array>, opts: { compress?: boolean } = {}): Uint8Array {
  const level = opts.compress ? 6 : 0;
  return zipSync(Object.fromEntries(Object.entries(entries).map(([name, bytes]) => [name, [bytes, { level }]])));
}

/**
 * CIFAR binary records: per sample its label byte(s) (CIFAR-100: coarse, fine), then the red,
 * green and blue 32×32 planes. `pixels` holds the samples channels-last (32×32×3 bytes each).
 */
export function cifarRecords(labels: ArrayLike<number>[], pixels: Uint8Array): Uint8Array {
  const lb = labels[0]?.length ?? 1;
  const rec = lb + 3072;
  const out = new Uint8Array(labels.length * rec);
  for (let i = 0; i < labels.length; i++) {
    out.set(labels[i]!, i * rec);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) out[i * rec + lb + c * 1024 + p] = pixels[i * 3072 + p * 3 + c]!;
    }
  }
  return out;
}

/** One image, channels-last bytes of `height`×`width`×`channels` (1 or 3), encoded by sharp. */
export async function encodeImage(
  pixels: Uint8Array,
  height: number,
  width: number,
  channels: 1 | 3,
  format: 'png' | 'jpeg' = 'png',
): Promise<Buffer> {
  const img = sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
    raw: { width, height, channels },
  });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 95 }).toBuffer();
}

/** Writes `files` (relative path → contents) under `dir`, creating folders. */
export function writeTree(dir: string, files: Record<string, Uint8Array | string>): string {
  for (const [name, bytes] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
  return dir;
}

/**
 * A learnable toy problem as bytes, so every format can hold it: each class a fixed random
 * pattern of `width` values, each sample its class's pattern plus noise. Labels cycle 0, 1, ….
 */
export function patternSamples(
  count: number,
  width: number,
  classes: number,
  seed: number,
): { pixels: Uint8Array; labels: Uint8Array } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const patterns = Array.from({ length: classes }, () => Uint8Array.from({ length: width }, () => 40 + 175 * rand()));
  const pixels = new Uint8Array(count * width);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % classes);
  for (let i = 0; i < count; i++) {
    const pattern = patterns[labels[i]!]!;
    for (let p = 0; p < width; p++) pixels[i * width + p] = pattern[p]! + Math.round(80 * (rand() - 0.5));
  }
  return { pixels, labels };
}
