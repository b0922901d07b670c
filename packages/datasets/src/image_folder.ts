/**
 * The `images` builder: a directory tree in the convention of Keras'
 * `image_dataset_from_directory`: `train/<class>/*.png|jpg|jpeg` and `test/<class>/…`. Classes
 * are the sorted subdirectory names of train/ (label = index), alpha is dropped, and each split is
 * decoded into one preallocated Float32Array.
 *
 * Two decoders: pngjs for PNG, sharp (libvips) for JPEG and for resizing. libvips' per-image
 * setup (~0.5 ms here) dominates small images, and pngjs decodes a 32×32 PNG in about a quarter
 * of that, so a CIFAR-sized folder of PNGs loads several times faster. PNG is lossless, so both
 * give the same 8-bit pixels (16-bit samples may round one level apart).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { DatasetError } from '@squash/core';
import pngjs from 'pngjs';
import type { Dataset, DatasetBuilder, DatasetSpec, Split } from './dataset.js';
import { BYTE_SCALE, MAX_CLASSES } from './npy_convert.js';

/** The extensions Keras reads that sharp decodes too (case-insensitive); other files are skipped, as Keras does. */
const IMAGE_FILE = /\.(png|jpe?g)$/i;

type Sharp = typeof import('sharp')['default'];

interface ImageFile {
  path: string;
  label: number;
}

/** Hidden entries (`.DS_Store`, `.ipynb_checkpoints`) are never classes or images. */
const visible = (name: string): boolean => !name.startsWith('.');

/** Every image under `dir`, in subfolders too, sorted by path so the order is the same everywhere. */
function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (!visible(entry.name)) continue;
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (IMAGE_FILE.test(entry.name)) out.push(p);
    }
  };
  walk(dir);
  // Plain code-unit order, like Python's sorted(); locale collation differs between machines.
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function subdirectories(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && visible(e.name))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function splitDir(root: string, which: 'train' | 'test'): string {
  const dir = join(root, which);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DatasetError(`missing ${which}/ in ${root}`, {
      location: { file: root },
      hint: 'an images dataset holds train/<class>/*.png|jpg and test/<class>/*.png|jpg',
    });
  }
  const strays = readdirSync(dir).filter((f) => visible(f) && IMAGE_FILE.test(f));
  if (strays.length > 0) {
    throw new DatasetError(`${which}/${strays[0]} is not inside a class folder, so it has no label`, {
      location: { file: join(dir, strays[0]!) },
      hint: `put each image in ${which}/<class name>/`,
    });
  }
  return dir;
}

function listSplit(root: string, which: 'train' | 'test', classes: string[]): ImageFile[] {
  const dir = splitDir(root, which);
  const files: ImageFile[] = [];
  for (const name of subdirectories(dir)) {
    const label = classes.indexOf(name);
    if (label < 0) {
      throw new DatasetError(`${which}/${name} is not a class of train/ (${classes.join(', ')})`, {
        location: { file: join(dir, name) },
        hint: 'test/ must use the class folder names of train/',
      });
    }
    const images = listImages(join(dir, name));
    if (images.length === 0) {
      throw new DatasetError(`${which}/${name} holds no .png, .jpg or .jpeg images`, {
        location: { file: join(dir, name) },
        hint: 'remove the empty class folder or add its images',
      });
    }
    for (const path of images) files.push({ path, label });
  }
  if (files.length === 0) {
    throw new DatasetError(`${which}/ holds no class folders with images`, { location: { file: dir } });
  }
  return files;
}

interface Geometry {
  height: number;
  width: number;
  channels: 1 | 3;
  /** Resize every image to height × width instead of requiring it. */
  resize: boolean;
  /** Where the required size comes from, for messages. */
  sizeFrom: string;
}

async function loadSharp(): Promise<Sharp> {
  try {
    return (await import('sharp')).default;
  } catch (e) {
    throw new DatasetError(
      `the images dataset needs the sharp image library, which failed to load: ${(e as Error).message}`,
      {
        hint: 'reinstall dependencies (pnpm install) on this platform',
        cause: e,
      },
    );
  }
}

/** Decoded 8-bit pixels, `stride` bytes per pixel with R, G, B first (pngjs gives RGBA). */
interface Decoded {
  data: Uint8Array;
  stride: 3 | 4;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decodes one file to 8-bit RGB(A), resized when asked; the caller checks the size and converts. */
async function decode(sharp: Sharp, path: string, root: string, g: Geometry | undefined): Promise<Decoded> {
  try {
    // Synchronous: per small file it costs less than the thread-pool round trips of readFile, and
    // the decoding that follows is CPU-bound on this thread anyway (pngjs) or queued (sharp).
    const bytes = readFileSync(path);
    let input: Parameters<Sharp>[0] = bytes;
    let options: Parameters<Sharp>[1];
    if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
      const { data, width, height } = pngjs.PNG.sync.read(bytes);
      if (!g?.resize || (width === g.width && height === g.height)) return { data, stride: 4, width, height };
      [input, options] = [data, { raw: { width, height, channels: 4 } }];
    }
    let pipeline = sharp(input, options).removeAlpha().toColourspace('srgb');
    if (g?.resize) pipeline = pipeline.resize({ width: g.width, height: g.height, fit: 'fill', kernel: 'linear' });
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data, stride: 3, width: info.width, height: info.height };
  } catch (e) {
    throw new DatasetError(`${relative(root, path)}: cannot decode the image (${(e as Error).message})`, {
      location: { file: path },
      hint: 'expected a valid PNG or JPEG file',
      cause: e,
    });
  }
}

/** Writes decoded pixels as channels-last floats; grayscale is ITU-R 601 luma, as PIL (and so Keras) computes it. */
function store({ data, stride }: Decoded, x: Float32Array, at: number, channels: 1 | 3): void {
  const n = data.length / stride;
  if (channels === 3 && stride === 3) {
    for (let i = 0; i < data.length; i++) x[at + i] = BYTE_SCALE[data[i]!]!;
  } else if (channels === 3) {
    for (let p = 0, i = 0; p < n; p++, i += stride) {
      x[at + 3 * p] = BYTE_SCALE[data[i]!]!;
      x[at + 3 * p + 1] = BYTE_SCALE[data[i + 1]!]!;
      x[at + 3 * p + 2] = BYTE_SCALE[data[i + 2]!]!;
    }
  } else {
    for (let p = 0, i = 0; p < n; p++, i += stride) {
      x[at + p] = (0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!) / 255;
    }
  }
}

/**
 * Runs `fn` on 0..n-1 with at most `limit` calls in flight. After a failure no new call starts;
 * the calls in flight finish, and the failure at the lowest index is thrown, so the error a user
 * sees is the first bad file in order, whatever the timing.
 */
async function forEachBounded(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: Array<{ i: number; error: unknown }> = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < n) {
      const i = next++;
      try {
        await fn(i);
      } catch (error) {
        failures.push({ i, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  if (failures.length > 0) throw failures.reduce((a, b) => (b.i < a.i ? b : a)).error;
}

// Small images decode in well under a millisecond, so throughput comes from many in flight at
// once on libuv's pool; more than a few per core only queues.
const IN_FLIGHT = Math.max(4, 4 * availableParallelism());

async function readSplit(sharp: Sharp, root: string, files: ImageFile[], g: Geometry): Promise<Split> {
  const pixels = g.height * g.width * g.channels;
  const x = new Float32Array(files.length * pixels);
  const y = Uint8Array.from(files, (f) => f.label);
  await forEachBounded(files.length, IN_FLIGHT, async (i) => {
    const { path } = files[i]!;
    const image = await decode(sharp, path, root, g);
    if (image.height !== g.height || image.width !== g.width) {
      throw new DatasetError(
        `${relative(root, path)} is ${image.height}×${image.width} (height×width); expected ${g.height}×${g.width} (${g.sizeFrom})`,
        {
          location: { file: path },
          hint: g.sizeFrom.startsWith('dataset.size')
            ? 'resize the image, or drop resize: false so Squash resizes it'
            : 'set dataset.size: [height, width] to resize every image to one size',
        },
      );
    }
    store(image, x, i * pixels, g.channels);
  });
  return { x, y, count: files.length };
}

function geometryOf(spec: DatasetSpec): Partial<Geometry> {
  const channels = spec.channels ?? 3;
  if (channels !== 1 && channels !== 3) {
    throw new DatasetError(`dataset.channels must be 1 (grayscale) or 3 (RGB), got ${JSON.stringify(channels)}`, {
      location: { path: 'dataset.channels' },
    });
  }
  if (spec.size === undefined) {
    if (spec.resize !== undefined) {
      throw new DatasetError('dataset.resize needs dataset.size: [height, width]', {
        location: { path: 'dataset.resize' },
      });
    }
    return { channels };
  }
  const ok =
    Array.isArray(spec.size) && spec.size.length === 2 && spec.size.every((d) => Number.isInteger(d) && d >= 1);
  if (!ok) {
    throw new DatasetError(`dataset.size must be [height, width] in pixels, got ${JSON.stringify(spec.size)}`, {
      location: { path: 'dataset.size' },
    });
  }
  const [height, width] = spec.size;
  const resize = spec.resize !== false;
  return { height, width, channels, resize, sizeFrom: `dataset.size${resize ? '' : ' with resize: false'}` };
}

export async function loadImageFolder(root: string, spec: DatasetSpec): Promise<Dataset> {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new DatasetError(`dataset directory not found: ${root}`, {
      location: { file: root },
      hint: 'an images dataset holds train/<class>/*.png|jpg and test/<class>/*.png|jpg',
    });
  }
  const given = geometryOf(spec);
  const classes = subdirectories(splitDir(root, 'train'));
  if (classes.length < 2) {
    throw new DatasetError(
      `train/ in ${root} has ${classes.length === 0 ? 'no class folders' : `one class folder (${classes[0]})`}; a classifier needs at least 2`,
      { location: { file: join(root, 'train') }, hint: 'one folder per class: train/<class name>/*.png|jpg' },
    );
  }
  if (classes.length > MAX_CLASSES) {
    throw new DatasetError(`train/ has ${classes.length} class folders; at most ${MAX_CLASSES} classes are supported`, {
      location: { file: join(root, 'train') },
    });
  }
  const trainFiles = listSplit(root, 'train', classes);
  const testFiles = listSplit(root, 'test', classes);
  const sharp = await loadSharp();

  // Without a declared size, the first training image sets it for all.
  let g: Geometry;
  if (given.height === undefined) {
    const first = trainFiles[0]!.path;
    const image = await decode(sharp, first, root, undefined);
    g = {
      height: image.height,
      width: image.width,
      channels: given.channels!,
      resize: false,
      sizeFrom: `the size of ${relative(root, first).split(sep).join('/')}, the first training image`,
    };
  } else {
    g = given as Geometry;
  }
  const ds: Dataset = {
    name: spec.name,
    inputShape: [g.height, g.width, g.channels],
    numClasses: classes.length,
    train: await readSplit(sharp, root, trainFiles, g),
    test: await readSplit(sharp, root, testFiles, g),
    source: root,
    classNames: classes,
  };
  return ds;
}

export const imagesBuilder: DatasetBuilder = {
  description:
    "a folder tree train/<class>/*.png|jpg and test/<class>/… (Keras' image_dataset_from_directory layout); size, channels, resize",
  async load(spec, ctx) {
    if (spec.path === undefined || spec.path === '') {
      throw new DatasetError(`dataset '${spec.name}' needs a path to a directory holding train/ and test/`, {
        location: { path: 'dataset.path' },
      });
    }
    return loadImageFolder(resolve(ctx.baseDir, spec.path), spec);
  },
};
