import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@squash/backend';
import { type Dataset, loadDataset } from '@squash/datasets';
import { tempDir } from './__tests__/fixtures.js';
import { checkCachedBaseline, obtainBaseline, type ObtainOptions } from './baseline.js';
import type { BaselineConfig } from './spec/types.js';

const config: BaselineConfig = {
  model: {
    name: 'tiny-mlp',
    layers: [
      { type: 'flatten' },
      { type: 'dense', units: 8, activation: 'relu' },
      { type: 'dense', units: 10, activation: 'softmax' },
    ],
  },
  dataset: { name: 'synthetic', samples: { train: 300, test: 100 } },
  train: { epochs: 2, batchSize: 32, learningRate: 0.001, validationSplit: 0 },
  seed: 1,
};

let data: Dataset;
beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  data = await loadDataset(config.dataset);
});

/** Obtains the baseline `b1` and records what happened on the way. */
async function obtain(cacheDir: string, extra: Partial<ObtainOptions> = {}) {
  const seen = { trained: 0, damaged: [] as string[], waited: 0 };
  const b = await obtainBaseline('b1', config, data, {
    cacheDir,
    backend: 'wasm',
    onTrainStart: () => seen.trained++,
    onDamaged: (p) => seen.damaged.push(p),
    onWait: () => seen.waited++,
    pollMs: 20,
    ...extra,
  });
  b.model.dispose();
  return { b, ...seen };
}

describe('cached baselines', () => {
  it('records the size and hash of each model file, and loads what it saved', async () => {
    const cache = tempDir();
    const first = await obtain(cache);
    expect(first).toMatchObject({ trained: 1, b: { cacheHit: false } });
    const info = JSON.parse(readFileSync(join(first.b.dir, 'baseline.json'), 'utf8'));
    expect(info.files['weights.bin'].bytes).toBe(statSync(join(first.b.dir, 'weights.bin')).size);
    expect(info.files['model.json'].sha256).toMatch(/^[0-9a-f]{64}$/);
    const again = await obtain(cache);
    expect(again).toMatchObject({ trained: 0, damaged: [], b: { cacheHit: true, accuracy: first.b.accuracy } });
  });

  it.each([
    ['truncated weights', (dir: string) => truncateSync(join(dir, 'weights.bin'), 100), /weights\.bin is 100 bytes/],
    [
      'garbage model.json',
      (dir: string) => writeFileSync(join(dir, 'model.json'), '{ not json'),
      /model\.json is \d+ bytes, saved as \d+/,
    ],
    [
      'a flipped weight byte',
      (dir: string) => {
        const bytes = readFileSync(join(dir, 'weights.bin'));
        bytes[10] = bytes[10]! ^ 0xff;
        writeFileSync(join(dir, 'weights.bin'), bytes);
      },
      /weights\.bin differs/,
    ],
    [
      'a garbage info file',
      (dir: string) => writeFileSync(join(dir, 'baseline.json'), '[1,'),
      /baseline\.json is unreadable/,
    ],
  ])('retrains a damaged entry (%s) with a warning, never a raw error', async (_, damage, problem) => {
    const cache = tempDir();
    const { b } = await obtain(cache);
    damage(b.dir);
    expect(checkCachedBaseline(b.dir)).toMatchObject({ state: 'damaged', problem: expect.stringMatching(problem) });
    const again = await obtain(cache);
    expect(again.trained).toBe(1);
    expect(again.damaged).toEqual([expect.stringMatching(problem)]);
    expect(again.b.cacheHit).toBe(false);
    expect(checkCachedBaseline(b.dir).state).toBe('ok');
    expect((await obtain(cache)).b.cacheHit).toBe(true);
  });

  it('retrains an entry saved before hashes were recorded that tfjs cannot load', async () => {
    const cache = tempDir();
    const { b } = await obtain(cache);
    const info = JSON.parse(readFileSync(join(b.dir, 'baseline.json'), 'utf8'));
    delete info.files;
    writeFileSync(join(b.dir, 'baseline.json'), JSON.stringify(info));
    truncateSync(join(b.dir, 'weights.bin'), 64);
    const again = await obtain(cache);
    expect(again.damaged).toEqual([expect.stringMatching(/TensorFlow\.js cannot load it/)]);
    expect(again.trained).toBe(1);
  });

  it('waits while another live process holds the entry, then trains once the lock is gone', async () => {
    const cache = tempDir();
    await obtain(cache); // creates cache/baselines
    const lock = join(cache, 'baselines', 'b2.lock');
    writeFileSync(lock, JSON.stringify({ host: hostname(), pid: process.ppid, since: '', token: 'other' }));
    let waited = 0;
    const pending = obtainBaseline('b2', config, data, {
      cacheDir: cache,
      backend: 'wasm',
      pollMs: 20,
      onWait: (h) => {
        waited++;
        expect(h?.pid).toBe(process.ppid);
      },
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(waited).toBe(1); // once per holder, not once per poll
    rmSync(lock);
    const b = await pending;
    expect(b.cacheHit).toBe(false);
    b.model.dispose();
  });
});
