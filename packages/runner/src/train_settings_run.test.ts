import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '@squash/store';
import type { FineTuneOptions, TrainOptions } from '@squash/trainer';
import { tempDir } from './__tests__/fixtures.js';
import { type RunEvent, runExperiment } from './execute.js';
import { parseSpec } from './spec/parse.js';

/** What the runner hands the trainer, recorded on the way through to the real training. */
const seen = vi.hoisted(() => ({ train: [] as TrainOptions[], fineTune: [] as FineTuneOptions[] }));
vi.mock('@squash/trainer', async (importOriginal) => {
  const real = await importOriginal<typeof import('@squash/trainer')>();
  return {
    ...real,
    train: (...args: Parameters<typeof real.train>) => (seen.train.push(args[2]), real.train(...args)),
    fineTune: (...args: Parameters<typeof real.fineTune>) => (seen.fineTune.push(args[2]), real.fineTune(...args)),
  };
});

/** Caffe's LeNet solver on a tiny model: sgd, momentum, L2, the inv schedule, two base rates. */
const EXPERIMENT = `name: solver
model:
  name: tiny-mlp
  layers:
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
dataset: { name: synthetic, samples: { train: 600, test: 200 } }
train:
  optimizer: sgd
  momentum: 0.9
  weightDecay: 0.0005
  schedule: inv
  gamma: 0.0001
  power: 0.75
  learningRate: [0.05, 0.1]
  batchSize: 32
  iterations: 10
seeds: [3]
sweeps:
  - name: ft
    stages:
      - prune-weights: { retention: 0.5 }
      - finetune: { epochs: 1, nesterov: true }
`;

describe('training settings from the experiment file reach the trainer and the records', () => {
  it('trains each baseline of a train: axis with its settings, fine-tunes with them merged, and records them', async () => {
    const dir = tempDir();
    const exp = parseSpec(EXPERIMENT, 'solver.yaml').experiment!;
    const store = SqliteStore.open(join(dir, 'squash.db'));
    const events: RunEvent[] = [];
    const summary = await runExperiment(exp, {
      store,
      cacheDir: join(dir, 'cache'),
      backend: 'wasm',
      onEvent: (e) => events.push(e),
    });
    const runs = store.listRuns('solver');
    store.close();
    expect(summary.finished).toBe(2);

    const solver = {
      optimizer: 'sgd',
      momentum: 0.9,
      weightDecay: 0.0005,
      schedule: 'inv',
      gamma: 0.0001,
      power: 0.75,
    };
    // 10 steps of 32 of 600 samples: within the first epoch.
    expect(seen.train.map((o) => [o.learningRate, o.iterations, o.epochs, o.batchSize, o.optimizer])).toEqual([
      [0.05, 10, 1, 32, solver],
      [0.1, 10, 1, 32, solver],
    ]);
    expect(
      events.filter((e) => e.type === 'baseline-start').map((e) => e.type === 'baseline-start' && e.epochs),
    ).toEqual([1, 1]);
    // Fine-tuning inherits the baseline's optimizer, its own nesterov on top, a tenth of its rate, epochs not iterations.
    expect(seen.fineTune.map((o) => [o.learningRate, o.iterations, o.epochs, o.optimizer])).toEqual([
      [0.005, undefined, 1, { ...solver, nesterov: true }],
      [0.01, undefined, 1, { ...solver, nesterov: true }],
    ]);

    const recorded = {
      optimizer: 'sgd',
      momentum: 0.9,
      weight_decay: 0.0005,
      schedule: 'inv',
      gamma: 0.0001,
      iterations: 10,
      batch_size: 32,
    };
    const baselines = runs.filter((r) => r.isBaseline).sort((a, b) => a.label.localeCompare(b.label));
    expect(baselines.map((r) => r.label)).toEqual(['baseline(learningRate=0.05)', 'baseline(learningRate=0.1)']);
    expect(baselines.map((r) => r.params)).toEqual([
      expect.objectContaining({ ...recorded, learning_rate: 0.05 }),
      expect.objectContaining({ ...recorded, learning_rate: 0.1 }),
    ]);
    for (const r of baselines) {
      expect(r.params).not.toHaveProperty('epochs'); // iterations decided the length
      expect(r.params).not.toHaveProperty('power'); // 0.75 is its default
    }
    const trials = runs.filter((r) => !r.isBaseline).sort((a, b) => a.label.localeCompare(b.label));
    expect(trials.map((r) => r.label)).toEqual([
      'train(learningRate=0.05) → prune-weights(retention=0.5) → finetune(epochs=1,nesterov=true)',
      'train(learningRate=0.1) → prune-weights(retention=0.5) → finetune(epochs=1,nesterov=true)',
    ]);
    expect(trials.map((r) => [r.params.learning_rate, r.params.optimizer, r.params['finetune.nesterov']])).toEqual([
      [0.05, 'sgd', true],
      [0.1, 'sgd', true],
    ]);
  });
});
