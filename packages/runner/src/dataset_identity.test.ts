import { cpSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { idxBytes as idx } from '@squash/datasets/writers';
import { describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '@squash/store';
import { runExperiment, type RunEvent } from './execute.js';
import { planTrials } from './plan.js';
import { loadExperimentData } from './run/context.js';
import { parseSpec } from './spec/parse.js';
import type { Experiment } from './spec/types.js';
import { tempDir } from './__tests__/fixtures.js';

/** The training seeds every augmented batch was drawn with: which training passes augmented. */
const augmentedSeeds = new Set<number>();
vi.mock('@squash/datasets', async (importOriginal) => {
  const real = await importOriginal<typeof import('@squash/datasets')>();
  return {
    ...real,
    batchAugmenter: (...args: Parameters<typeof real.batchAugmenter>) => {
      const hook = real.batchAugmenter(...args);
      return (
        hook &&
        ((b: Float32Array, n: number, at: Parameters<NonNullable<typeof hook>>[2]) => {
          augmentedSeeds.add(at.seed);
          hook(b, n, at);
        })
      );
    },
  };
});

/** 8×8 images of three classes (a bright band at rows 0–2, 3–5 or 6–7) with noise: learnable in a few steps. */
function writeIdxData(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const split = (n: number, salt: number) => {
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    const px = new Uint8Array(n * 64);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < 64; p++) {
        const band = Math.min(2, Math.floor(Math.floor(p / 8) / 3));
        px[i * 64 + p] = (band === labels[i] ? 180 : 20) + ((i * 37 + p * 11 + salt) % 60);
      }
    return { images: idx([n, 8, 8], px), labels: idx([n], labels) };
  };
  const train = split(96, 0);
  const test = split(30, 7);
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), train.images);
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), train.labels);
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), test.images);
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), test.labels);
}

const experimentText = (path: string, dataset = '') => `name: idx-identity
model:
  name: band
  layers:
    - { type: flatten }
    - { type: dense, units: 3, activation: softmax }
dataset:
  name: idx
  path: ${path}${dataset}
train: { epochs: 2, batchSize: 16, learningRate: 0.05, validationSplit: 0.25 }
seeds: [1]
sweeps:
  - name: q
    stages:
      - quantize-weights: { bits: [4] }
      - finetune: { epochs: 1 }
`;

function parsed(text: string, file: string): Experiment {
  writeFileSync(file, text);
  const { experiment, errors } = parseSpec(text, file);
  expect(errors.map((e) => e.describe())).toEqual([]);
  return experiment!;
}

const ids = (exp: Experiment) => planTrials(exp).map((t) => [t.baselineId, t.id]);

const synthetic = (dataset: string) =>
  parseSpec(
    `name: e
model: article-mlp
dataset: { name: synthetic${dataset} }
sweeps:
  - name: s
    stages:
      - quantize-weights: { bits: 4 }
`,
    'e.yaml',
  ).experiment!;

describe('preprocessing in ids', () => {
  it('normalize changes ids; equivalent spellings (defaults, shorthands) do not', () => {
    const none = ids(synthetic(''));
    expect(ids(synthetic(', normalize: { mean: 0, std: [1] }'))).toEqual(none);
    expect(ids(synthetic(', normalize: { scale: 1 }'))).toEqual(none);
    const perChannel = ids(synthetic(', normalize: per-channel'));
    expect(perChannel[0]![0]).not.toBe(none[0]![0]);
    expect(perChannel[0]![1]).not.toBe(none[0]![1]);
    expect(ids(synthetic(', normalize: { mean: per-channel, std: per-channel, scale: 1 }'))).toEqual(perChannel);
    expect(ids(synthetic(', normalize: global'))).not.toEqual(perChannel);
    expect(ids(synthetic(', normalize: { mean: [0.5, 0.5, 0.5], std: 0.25 }'))).toEqual(
      ids(synthetic(', normalize: { mean: 0.5, std: 0.25 }')),
    );
  });

  it('augment changes ids; moves that do nothing do not', () => {
    const none = ids(synthetic(''));
    expect(ids(synthetic(', augment: { flip: false, shift: 0, crop: { padding: 0 } }'))).toEqual(none);
    const flip = ids(synthetic(', augment: { flip: true }'));
    expect(flip[0]![0]).not.toBe(none[0]![0]);
    expect(ids(synthetic(', augment: { flip: true, shift: 0 }'))).toEqual(flip);
    expect(ids(synthetic(', augment: { flip: true, shift: 2 }'))).not.toEqual(flip);
  });

  it('a bad value is a located schema error', () => {
    const { errors } = parseSpec(
      `name: e
model: article-mlp
dataset: { name: synthetic, normalize: { mean: nope, std: 0 }, augment: { crop: {}, spin: true } }
sweeps:
  - name: s
    stages:
      - quantize-weights: { bits: 4 }
`,
      'e.yaml',
    );
    const text = errors.map((e) => e.describe()).join('\n');
    expect(text).toMatch(/e\.yaml:3:\d+: dataset\.normalize\.mean: expected one of: per-channel, global; got 'nope'/);
    expect(text).toMatch(/dataset\.normalize\.std: must be > 0, got 0/);
    expect(text).toMatch(/dataset\.augment\.crop: missing required key 'padding'/);
    expect(text).toMatch(/unknown key 'spin'/);
  });
});

describe('dataset identity: ids follow the files, not their path', () => {
  it('the same IDX files elsewhere give the same ids; one changed byte gives new ones', () => {
    const root = tempDir();
    writeIdxData(join(root, 'a', 'data'));
    const here = parsed(experimentText('data'), join(root, 'a', 'e.yaml'));
    cpSync(join(root, 'a', 'data'), join(root, 'b', 'mnist-copy'), { recursive: true });
    mkdirSync(join(root, 'c'));
    const there = parsed(experimentText('../b/mnist-copy'), join(root, 'c', 'e.yaml'));
    expect(ids(there)).toEqual(ids(here));
    expect(there.dataset.content).toEqual(here.dataset.content);
    expect(here.dataset.content).toMatchObject({ files: 4 });

    const file = join(root, 'b', 'mnist-copy', 't10k-images-idx3-ubyte');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(file, bytes);
    const t = Date.now() / 1000 + 10;
    utimesSync(file, t, t);
    const edited = parsed(experimentText('../b/mnist-copy'), join(root, 'c', 'e2.yaml'));
    const [[b0, t0]] = ids(here) as [[string, string]];
    const [[b1, t1]] = ids(edited) as [[string, string]];
    expect(b1).not.toBe(b0);
    expect(t1).not.toBe(t0);
  });

  it('a missing directory is a located error when the experiment is read', () => {
    const root = tempDir();
    const { errors } = parseSpec(experimentText('nowhere'), join(root, 'e.yaml'));
    expect(errors.map((e) => e.describe())).toEqual([
      expect.stringMatching(/e\.yaml:9:\d+: dataset\.path: dataset directory not found: .*nowhere/),
    ]);
  });

  it('files edited after the experiment was read are refused before anything runs', async () => {
    const root = tempDir();
    writeIdxData(join(root, 'data'));
    const exp = parsed(experimentText('data'), join(root, 'e.yaml'));
    const file = join(root, 'data', 'train-labels-idx1-ubyte');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1]! + 1) % 3;
    writeFileSync(file, bytes);
    const t = Date.now() / 1000 + 10;
    utimesSync(file, t, t);
    await expect(loadExperimentData(exp)).rejects.toThrow(/dataset data changed since the experiment was read/);
  });
});

async function run(
  exp: Experiment,
  dbDir: string,
  cacheDir: string,
  data?: Awaited<ReturnType<typeof loadExperimentData>>,
) {
  const store = SqliteStore.open(join(dbDir, 'squash.db'));
  const events: RunEvent[] = [];
  const summary = await runExperiment(exp, { store, cacheDir, backend: 'cpu', onEvent: (e) => events.push(e), data });
  const runs = store.listRuns(exp.name);
  store.close();
  return { summary, events, runs };
}

describe('dataset identity and preprocessing, run end to end (real training, real SQLite)', () => {
  it('records path, hash and statistics; the copy elsewhere hits the cache; training never touches the splits', async () => {
    const root = tempDir();
    const cache = join(root, 'cache');
    writeIdxData(join(root, 'a', 'data'));
    const pre = '\n  normalize: per-channel\n  augment: { shift: 1, flip: true }';
    const exp = parsed(experimentText('data', pre), join(root, 'a', 'e.yaml'));
    const data = await loadExperimentData(exp);
    const train0 = data.train.x.slice();
    const test0 = data.test.x.slice();
    const first = await run(exp, join(root, 'a'), cache, data);
    expect(first.summary).toMatchObject({ finished: 1, failed: 0 });
    // The baseline (seed 1) and the trial's finetune stage (a seed of its own) both augmented.
    expect(augmentedSeeds.has(1)).toBe(true);
    expect(augmentedSeeds.size).toBe(2);
    // Baseline and the finetune stage both trained on augmented copies: the splits are as loaded.
    expect([...data.train.x]).toEqual([...train0]);
    expect([...data.test.x]).toEqual([...test0]);

    const baseline = first.runs.find((r) => r.isBaseline)!;
    const trial = first.runs.find((r) => !r.isBaseline)!;
    expect(baseline.params.cache_hit).toBe(false);
    expect(baseline.metrics.accuracy).toBeGreaterThan(0.6);
    for (const r of [baseline, trial]) {
      expect(r.params).toMatchObject({
        dataset: 'idx',
        'dataset.path': 'data',
        'dataset.sha256': exp.dataset.content!.sha256,
        'dataset.normalize': 'mean=per-channel,std=per-channel',
        'dataset.augment': 'flip,shift=1',
      });
      expect(String(r.params['dataset.normalize.mean'])).toBe(
        String(Number(data.normalization!.mean[0]!.toPrecision(6))),
      );
    }

    // The same files under another path, another experiment directory and database: same ids, cached baseline.
    cpSync(join(root, 'a', 'data'), join(root, 'b', 'moved'), { recursive: true });
    mkdirSync(join(root, 'c'));
    const moved = parsed(experimentText('../b/moved', pre), join(root, 'c', 'e.yaml'));
    expect(ids(moved)).toEqual(ids(exp));
    const second = await run(moved, join(root, 'c'), cache);
    expect(second.events.find((e) => e.type === 'baseline')).toMatchObject({ cacheHit: true });
    expect(second.events.filter((e) => e.type === 'epoch' && e.trialId === undefined)).toEqual([]);
    const again = second.runs.find((r) => !r.isBaseline)!;
    expect(again.trialId).toBe(trial.trialId);
    expect(again.params['dataset.path']).toBe('../b/moved');
    // Same seed, same augmented batches: the fine-tuned trial reproduces its accuracy exactly.
    expect(again.metrics.accuracy).toBe(trial.metrics.accuracy);
  });
});
