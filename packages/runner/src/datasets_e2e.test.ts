/**
 * Each dataset format through the whole pipeline: files written in their published layout, an
 * experiment naming them by a path relative to the experiment file, a small model trained on them,
 * a compressed trial evaluated, accuracy stored.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cifarRecords, encodeImage, npyOf, npzBytes, patternSamples, writeTree } from '@squash/datasets/writers';
import { SqliteStore } from '@squash/store';
import { runExperiment } from './execute.js';
import { parseSpec } from './spec/parse.js';
import { tempDir } from './__tests__/fixtures.js';

function experiment(dataset: string, layers: string[]): string {
  return `name: formats
model:
  name: small
  layers:
${layers.map((l) => `    - ${l}`).join('\n')}
dataset: ${dataset}
train: { epochs: 4, batchSize: 32 }
seeds: [1]
sweeps:
  - name: q
    stages:
      - quantize-weights: { bits: 8 }
`;
}

async function run(dir: string, text: string) {
  const parsed = parseSpec(text, join(dir, 'experiment.yaml'));
  expect(parsed.errors).toEqual([]);
  const store = SqliteStore.open(join(dir, 'squash.db'));
  const summary = await runExperiment(parsed.experiment!, { store, cacheDir: join(dir, 'cache'), backend: 'wasm' });
  const runs = store.listRuns('formats');
  store.close();
  expect(summary).toMatchObject({ finished: 1, failed: 0 });
  const baseline = runs.find((r) => r.isBaseline)!;
  const trial = runs.find((r) => !r.isBaseline)!;
  expect(baseline.status).toBe('FINISHED');
  expect(trial.status).toBe('FINISHED');
  expect(trial.metrics.accuracy).toBeTypeOf('number');
  return { baseline: baseline.metrics.accuracy!, trial: trial.metrics.accuracy! };
}

const conv = (classes: number): string[] => [
  '{ type: conv2d, filters: 4, kernelSize: 3, strides: 2, activation: relu }',
  '{ type: flatten }',
  `{ type: dense, units: ${classes}, activation: softmax }`,
];

describe('every dataset format trains, compresses and evaluates end to end', () => {
  it('npz: uint8 images (N, 12, 12, 3), int64 labels, 4 classes', async () => {
    const dir = tempDir();
    const width = 12 * 12 * 3;
    const train = patternSamples(320, width, 4, 1);
    const test = patternSamples(80, width, 4, 1);
    const labels = (l: Uint8Array) =>
      npyOf(
        BigInt64Array.from(l, (v) => BigInt(v)),
        [l.length],
      );
    writeTree(dir, {
      'data/set.npz': npzBytes(
        {
          'x_train.npy': npyOf(train.pixels, [320, 12, 12, 3]),
          'y_train.npy': labels(train.labels),
          'x_test.npy': npyOf(test.pixels, [80, 12, 12, 3]),
          'y_test.npy': labels(test.labels),
        },
        { compress: true },
      ),
    });
    const acc = await run(dir, experiment('{ name: npz, path: data/set.npz }', conv(4)));
    expect(acc.baseline).toBeGreaterThan(0.6); // chance is 0.25
  });

  it('npy: float32 flat vectors (N, 64) in a directory, 3 classes', async () => {
    const dir = tempDir();
    const train = patternSamples(300, 64, 3, 2);
    const test = patternSamples(90, 64, 3, 2);
    const floats = (b: Uint8Array) => Float32Array.from(b, (v) => v / 255);
    writeTree(dir, {
      'arrays/x_train.npy': npyOf(floats(train.pixels), [300, 64]),
      'arrays/y_train.npy': npyOf(Int32Array.from(train.labels), [300]),
      'arrays/x_test.npy': npyOf(floats(test.pixels), [90, 64]),
      'arrays/y_test.npy': npyOf(Int32Array.from(test.labels), [90]),
    });
    const acc = await run(
      dir,
      experiment('{ name: npy, path: arrays }', [
        '{ type: dense, units: 16, activation: relu }',
        '{ type: dense, units: 3, activation: softmax }',
      ]),
    );
    expect(acc.baseline).toBeGreaterThan(0.6); // chance is 1/3
  });

  it('cifar: CIFAR-10 binary batches, 32×32×3, 10 classes', async () => {
    const dir = tempDir();
    const files: Record<string, Uint8Array | string> = {};
    for (let b = 1; b <= 5; b++) {
      const s = patternSamples(60, 3072, 10, 3);
      files[`cifar-10-batches-bin/data_batch_${b}.bin`] = cifarRecords(
        [...s.labels].map((l) => [l]),
        s.pixels,
      );
    }
    const t = patternSamples(100, 3072, 10, 3);
    files['cifar-10-batches-bin/test_batch.bin'] = cifarRecords(
      [...t.labels].map((l) => [l]),
      t.pixels,
    );
    files['cifar-10-batches-bin/batches.meta.txt'] = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n';
    writeTree(dir, files);
    const acc = await run(dir, experiment('{ name: cifar, path: . }', conv(10)));
    expect(acc.baseline).toBeGreaterThan(0.5); // chance is 0.1
  });

  it('images: PNG class folders, 16×16 RGB resized to 8×8 grayscale, 3 classes', async () => {
    const dir = tempDir();
    const files: Record<string, Uint8Array> = {};
    const classes = ['circle', 'square', 'triangle'];
    for (const [split, count] of [
      ['train', 240],
      ['test', 60],
    ] as const) {
      // 8×8 gray patterns drawn as 2×2 blocks in all three channels, so the resize back to 8×8 keeps them.
      const s = patternSamples(count, 64, 3, 4);
      for (let i = 0; i < count; i++) {
        const rgb = new Uint8Array(16 * 16 * 3);
        for (let p = 0; p < rgb.length; p++) {
          const [y, x] = [Math.floor(p / 48), Math.floor((p % 48) / 3)];
          rgb[p] = s.pixels[i * 64 + Math.floor(y / 2) * 8 + Math.floor(x / 2)]!;
        }
        files[`${split}/${classes[s.labels[i]!]}/${String(i).padStart(4, '0')}.png`] = await encodeImage(
          rgb,
          16,
          16,
          3,
        );
      }
    }
    writeTree(join(dir, 'pictures'), files);
    const acc = await run(
      dir,
      experiment('{ name: images, path: pictures, size: [8, 8], channels: 1 }', [
        '{ type: conv2d, filters: 4, kernelSize: 3, padding: same, activation: relu }',
        '{ type: flatten }',
        '{ type: dense, units: 3, activation: softmax }',
      ]),
    );
    expect(acc.baseline).toBeGreaterThan(0.6); // chance is 1/3
  });
});
