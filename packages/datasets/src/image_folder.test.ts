import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './index.js';
import { expectDatasetError, tempDir } from './__tests__/fixtures.js';
import { imageFile, writeFiles } from './__tests__/formats.js';

const RED: [number, number, number] = [255, 0, 0];
const BLUE: [number, number, number] = [0, 0, 255];
/** Each pixel different, so order and layout errors show: value = 10·y + x in R, then fixed G and B. */
const ramp = (y: number, x: number): [number, number, number] => [10 * y + x, 100, 200];

/** A 16-bit RGB PNG of 4×6 with values that are not multiples of 257 (written by pngjs: sharp writes these as 8-bit). */
function png16(): Buffer {
  const options = { width: 6, height: 4, bitDepth: 16, colorType: 2, inputColorType: 2, inputHasAlpha: false } as const;
  const png = new pngjs.PNG(options);
  png.data = Buffer.from(Uint16Array.from({ length: 72 }, (_, i) => (i * 9973) % 65536).buffer);
  return pngjs.PNG.sync.write(png, options);
}

/** train/cat (2 images), train/dog (1), test/cat, test/dog; all 4×6 (h×w) unless overridden. */
async function folder(overrides: Record<string, Uint8Array | string> = {}): Promise<string> {
  return writeFiles(tempDir(), {
    'train/cat/b.png': await imageFile(4, 6, ramp),
    'train/cat/a.png': await imageFile(4, 6, () => RED),
    'train/dog/x.jpg': await imageFile(4, 6, () => BLUE, 'jpeg'),
    'train/notes.txt': 'not an image, skipped as Keras skips it',
    'test/dog/1.jpeg': await imageFile(4, 6, () => BLUE, 'jpeg'),
    'test/cat/1.PNG': await imageFile(4, 6, () => RED),
    ...overrides,
  });
}

describe('images: class folders', () => {
  it('labels by sorted class folder, orders files by name, and decodes RGB channels-last', async () => {
    const ds = await loadDataset({ name: 'images', path: await folder() });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.numClasses).toBe(2);
    expect(ds.inputShape).toEqual([4, 6, 3]);
    expect([...ds.train.y]).toEqual([0, 0, 1]);
    expect([...ds.test.y]).toEqual([0, 1]);
    const px = (i: number, y: number, x: number): number[] =>
      [...ds.train.x.subarray((i * 24 + y * 6 + x) * 3, (i * 24 + y * 6 + x) * 3 + 3)].map((v) => Math.round(v * 255));
    expect(px(0, 2, 3)).toEqual(RED); // a.png sorts first
    expect(px(1, 2, 3)).toEqual([23, 100, 200]); // b.png, lossless
    const [r, g, b] = px(2, 1, 1); // the JPEG, nearly blue
    expect(r! + g!).toBeLessThan(20);
    expect(b).toBeGreaterThan(235);
  });

  it('resizes to dataset.size and converts to grayscale (ITU-R 601 luma, as PIL and Keras)', async () => {
    const dir = await folder({ 'train/dog/y.png': await imageFile(9, 3, () => BLUE) });
    const ds = await loadDataset({ name: 'images', path: dir, size: [2, 3], channels: 1 });
    expect(ds.inputShape).toEqual([2, 3, 1]);
    expect(ds.train.count).toBe(4);
    expect(ds.train.x[0]).toBeCloseTo(0.299, 3); // red
    expect(ds.train.x[3 * 6]).toBeCloseTo(0.114, 2); // the second dog image, blue
    expect(ds.test.x[5]).toBeCloseTo(0.299, 3);
  });

  it('decodes PNG with pngjs to the pixels sharp gives, and resizes it as sharp resizes the file', async () => {
    const raw = (channels: 1 | 2 | 3 | 4) =>
      sharp(
        Uint8Array.from({ length: 4 * 6 * channels }, (_, i) => (i * 37) % 256),
        {
          raw: { width: 6, height: 4, channels },
        },
      );
    const files: Record<string, Buffer> = {
      'train/a/gray.png': await raw(1).png().toBuffer(),
      'train/a/gray-alpha.png': await raw(2).png().toBuffer(),
      'train/b/palette.png': await raw(3).png({ palette: true, colours: 16 }).toBuffer(),
      'train/b/rgba.png': await raw(4).png().toBuffer(),
      'test/a/rgb.png': await raw(3).png().toBuffer(),
      'test/b/rgb16.png': png16(),
    };
    const dir = writeFiles(tempDir(), files);
    const bySharp = async (bytes: Buffer, size?: [number, number]) => {
      let p = sharp(bytes).removeAlpha().toColourspace('srgb');
      if (size) p = p.resize({ width: size[1], height: size[0], fit: 'fill', kernel: 'linear' });
      return [...(await p.raw().toBuffer())].map((v) => v / 255);
    };
    for (const size of [undefined, [3, 4] as [number, number]]) {
      const ds = await loadDataset({ name: 'images', path: dir, ...(size ? { size } : {}) });
      const x = [...ds.train.x, ...ds.test.x];
      // In the dataset's order: train then test, each by sorted path (gray-alpha.png before gray.png).
      const sorted = ['train/', 'test/'].flatMap((split) =>
        Object.keys(files)
          .filter((f) => f.startsWith(split))
          .sort(),
      );
      const expected = (await Promise.all(sorted.map((f) => bySharp(files[f]!, size)))).flat();
      expect(x).toHaveLength(expected.length);
      // 16 to 8 bits: the two decoders round differently, by at most one level.
      for (let i = 0; i < x.length; i++)
        expect(Math.abs(x[i]! - expected[i]!), `value ${i}`).toBeLessThanOrEqual(1.001 / 255);
      const exact = x.slice(0, -(size ? 12 : 24) * 3);
      expect(
        exact.every((v, i) => Math.abs(v - expected[i]!) < 1e-6),
        'the 8-bit images match exactly',
      ).toBe(true);
    }
  });

  it('reads images in nested folders and skips hidden ones', async () => {
    const dir = await folder({
      'train/dog/more/z.png': await imageFile(4, 6, () => BLUE),
      'train/.ipynb_checkpoints/c.png': 'not read',
      'train/dog/.hidden.png': 'not read',
    });
    const ds = await loadDataset({ name: 'images', path: dir });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect([...ds.train.y]).toEqual([0, 0, 1, 1]);
  });
});

describe('broken image folders: a DatasetError naming the file and what was expected', () => {
  it('an image of another size, without resizing', async () => {
    const dir = await folder({ 'train/dog/y.png': await imageFile(5, 6, () => BLUE) });
    const err = await expectDatasetError(
      () => loadDataset({ name: 'images', path: dir }),
      'train/dog/y.png is 5×6 (height×width); expected 4×6 (the size of train/cat/a.png, the first training image)',
    );
    expect(err.location?.file).toBe(join(dir, 'train/dog/y.png'));
    expect(err.hint).toContain('dataset.size');
  });

  it('an image of another size than dataset.size with resize: false', async () => {
    const dir = await folder();
    await expectDatasetError(
      () => loadDataset({ name: 'images', path: dir, size: [4, 5], resize: false }),
      'train/cat/a.png is 4×6 (height×width); expected 4×5 (dataset.size with resize: false)',
    );
  });

  it('a corrupt PNG', async () => {
    const good = await imageFile(4, 6, ramp);
    const dir = await folder({ 'test/cat/2.png': good.subarray(0, 40) });
    const err = await expectDatasetError(
      () => loadDataset({ name: 'images', path: dir }),
      'test/cat/2.png: cannot decode the image',
    );
    expect(err.location?.file).toBe(join(dir, 'test/cat/2.png'));
  });

  it('a file that is not an image despite its name', async () => {
    await expectDatasetError(
      async () => loadDataset({ name: 'images', path: await folder({ 'train/dog/fake.jpg': 'hello' }) }),
      'train/dog/fake.jpg: cannot decode the image (Input buffer contains unsupported image format)',
    );
  });

  it('an empty class folder', async () => {
    const dir = await folder();
    mkdirSync(join(dir, 'train/emu'));
    const err = await expectDatasetError(
      () => loadDataset({ name: 'images', path: dir }),
      'train/emu holds no .png, .jpg or .jpeg images',
    );
    expect(err.location?.file).toBe(join(dir, 'train/emu'));
  });

  it('a test class that train does not have', async () => {
    await expectDatasetError(
      async () => loadDataset({ name: 'images', path: await folder({ 'test/cow/1.png': 'x' }) }),
      'test/cow is not a class of train/ (cat, dog)',
    );
  });

  it('an image outside any class folder, a missing test/, a single class', async () => {
    await expectDatasetError(
      async () => loadDataset({ name: 'images', path: await folder({ 'train/stray.png': 'x' }) }),
      'train/stray.png is not inside a class folder, so it has no label',
    );
    const noTest = writeFiles(tempDir(), {
      'train/a/1.png': await imageFile(2, 2, ramp),
      'train/b/1.png': await imageFile(2, 2, ramp),
    });
    await expectDatasetError(() => loadDataset({ name: 'images', path: noTest }), 'missing test/ in');
    const one = writeFiles(tempDir(), {
      'train/a/1.png': await imageFile(2, 2, ramp),
      'test/a/1.png': await imageFile(2, 2, ramp),
    });
    await expectDatasetError(
      () => loadDataset({ name: 'images', path: one }),
      'has one class folder (a); a classifier needs at least 2',
    );
  });

  it('bad size, channels and resize options', async () => {
    const dir = await folder();
    await expectDatasetError(
      () => loadDataset({ name: 'images', path: dir, size: [4] as never }),
      'dataset.size must be [height, width]',
    );
    await expectDatasetError(
      () => loadDataset({ name: 'images', path: dir, channels: 4 as never }),
      'dataset.channels must be 1 (grayscale) or 3 (RGB), got 4',
    );
    await expectDatasetError(
      () => loadDataset({ name: 'images', path: dir, resize: false }),
      'dataset.resize needs dataset.size',
    );
  });
});
