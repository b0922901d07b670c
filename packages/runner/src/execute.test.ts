import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseSpec } from './spec/parse.js';
import { runExperiment, type RunEvent } from './execute.js';
import { SqliteStore } from '@squash/store';
import { SYNTHETIC_EXPERIMENT, tempDir } from './__tests__/fixtures.js';
import { compressorStage, stageRegistry } from './stages/registry.js';

const experiment = () => parseSpec(SYNTHETIC_EXPERIMENT, 'tiny.yaml').experiment!;

async function runIn(dir: string, exp = experiment()) {
  const store = SqliteStore.open(join(dir, 'squash.db'));
  const events: RunEvent[] = [];
  const summary = await runExperiment(exp, {
    store,
    cacheDir: join(dir, 'cache'),
    backend: 'wasm',
    onEvent: (e) => events.push(e),
  });
  const runs = store.listRuns(exp.name);
  store.close();
  return { summary, events, runs };
}

describe('runExperiment (real training on the synthetic set, real SQLite)', () => {
  it('trains one baseline, runs every trial, stores each once, and reuses the baseline on rerun', async () => {
    const dir = tempDir();
    const first = await runIn(dir);
    expect(first.summary).toEqual({ finished: 4, skipped: 0, failed: 0, killed: 0, elsewhere: 0 });
    expect(first.runs).toHaveLength(5);
    const baseline = first.runs.find((r) => r.isBaseline)!;
    expect(baseline.backend).toBe('wasm');
    expect(baseline.params.cache_hit).toBe(false);
    // wasm has no compiled plan: the run says tfjs' autograd trained it.
    expect(baseline.params.training_path).toBe('tfjs-autograd');
    expect(baseline.metrics.accuracy).toBeGreaterThan(0.8); // the synthetic set is learnable
    expect(first.events.filter((e) => e.type === 'epoch')).toHaveLength(5);
    for (const r of first.runs) expect(r.status).toBe('FINISHED');

    const q8 = first.runs.find((r) => r.params['quantize-weights.bits'] === 8)!;
    expect(q8.tags).toEqual({ owner: 'tests', ticket: '42' });
    const q2 = first.runs.find((r) => r.params['quantize-weights.bits'] === 2)!;
    expect(q8.metrics.weight_bits).toBe(8);
    expect(Math.abs(q8.metrics.accuracy_delta!)).toBeLessThan(0.02);
    expect(q8.metrics.accuracy_delta).toBeCloseTo(q8.metrics.accuracy! - baseline.metrics.accuracy!, 10);
    expect(q2.metrics.weights_kept_fraction).toBeLessThan(q8.metrics.weights_kept_fraction!);
    const pruned = first.runs.find((r) => r.sweep === 'prune')!;
    expect(pruned.metrics.weights_kept_fraction).toBeCloseTo(0.5, 2);
    expect(first.runs.find((r) => r.sweep === 'act')!.metrics.activation_bits).toBe(4);

    // Rerun: nothing trained, nothing duplicated.
    const second = await runIn(dir);
    expect(second.summary).toEqual({ finished: 0, skipped: 4, failed: 0, killed: 0, elsewhere: 0 });
    expect(second.events.some((e) => e.type === 'epoch')).toBe(false);
    expect(second.runs).toHaveLength(5);
  });

  it('reuses the cached baseline in a new database and records the cache hit', async () => {
    const dir = tempDir();
    await runIn(dir);
    const store = SqliteStore.open(join(dir, 'other.db'));
    const events: RunEvent[] = [];
    await runExperiment(experiment(), {
      store,
      cacheDir: join(dir, 'cache'),
      backend: 'wasm',
      onEvent: (e) => events.push(e),
    });
    const runs = store.listRuns('tiny');
    store.close();
    expect(events.some((e) => e.type === 'epoch')).toBe(false);
    expect(runs.find((r) => r.isBaseline)!.params.cache_hit).toBe(true);
  });

  it('says where every epoch belongs: the baseline, or the trial stage, round and epoch', async () => {
    const text = SYNTHETIC_EXPERIMENT.replace('epochs: 5', 'epochs: 2').replace(
      /sweeps:[\s\S]*$/,
      `sweeps:
  - name: iterative
    stages:
      - prune-iterative: { retention: 0.5, rounds: 2, epochs: 2 }
      - quantize-weights: { bits: 4 }
      - finetune: { epochs: 1 }
`,
    );
    const { events } = await runIn(tempDir(), parseSpec(text, 'iterative.yaml').experiment!);
    const trialId = events.find((e) => e.type === 'running')!.trialId;
    const progress = events.flatMap((e) => {
      if (e.type === 'baseline-start') return [`baseline-start seed ${e.seed} epochs ${e.epochs}`];
      if (e.type === 'stage')
        return [`stage ${e.stageIndex}/${e.stages} ${e.stage}${e.trialId === trialId ? '' : ' ?'}`];
      if (e.type !== 'epoch') return [];
      const where = e.stage ? `${e.stage} ${e.stageIndex}/${e.stages}` : `baseline seed ${e.seed}`;
      const round = e.round !== undefined ? ` round ${e.round}/${e.rounds}` : '';
      return [
        `${where}${round} epoch ${e.log.epoch}/${e.epochs}${e.trialId === undefined || e.trialId === trialId ? '' : ' ?'}`,
      ];
    });
    expect(progress).toEqual([
      'baseline-start seed 3 epochs 2',
      'baseline seed 3 epoch 1/2',
      'baseline seed 3 epoch 2/2',
      'stage 1/3 prune-iterative',
      'prune-iterative 1/3 round 1/2 epoch 1/2',
      'prune-iterative 1/3 round 1/2 epoch 2/2',
      'prune-iterative 1/3 round 2/2 epoch 1/2',
      'prune-iterative 1/3 round 2/2 epoch 2/2',
      'stage 2/3 quantize-weights',
      'stage 3/3 finetune',
      'finetune 3/3 epoch 1/1',
    ]);
  });

  it('gives the same numbers for the same config and seed', async () => {
    const a = await runIn(tempDir());
    const b = await runIn(tempDir());
    const metrics = (runs: typeof a.runs) => runs.map((r) => [r.trialId, r.metrics.accuracy, r.metrics.loss]).sort();
    expect(metrics(b.runs)).toEqual(metrics(a.runs));
  });

  it('stores a failing trial as FAILED with its error and goes on', async () => {
    if (!stageRegistry.has('explode-weights')) {
      stageRegistry.register(
        'explode-weights',
        compressorStage({
          kind: 'weights',
          name: 'explode-weights',
          description: 'test only',
          params: {},
          validate: () => [],
          apply: () => {
            throw new Error('boom in apply');
          },
        }),
      );
    }
    // A parsed experiment is frozen: this one is a changed copy.
    const parsed = experiment();
    const exp = {
      ...parsed,
      sweeps: [{ name: 'bad', stages: [{ 'explode-weights': {} }] }, ...parsed.sweeps.slice(0, 1)],
    };
    const { summary, runs } = await runIn(tempDir(), exp);
    expect(summary).toEqual({ finished: 2, skipped: 0, failed: 1, killed: 0, elsewhere: 0 });
    const failed = runs.find((r) => r.status === 'FAILED')!;
    expect(failed.error).toMatch(/boom in apply/);
    expect(failed.endedAt).not.toBeNull();

    // --fail-fast: nothing starts after the failure (the two bits trials stay unrun).
    const dir = tempDir();
    const store = SqliteStore.open(join(dir, 'squash.db'));
    const fast = await runExperiment(exp, { store, cacheDir: join(dir, 'cache'), backend: 'wasm', failFast: true });
    expect(fast).toMatchObject({ finished: 0, failed: 1 });
    expect(store.listRuns('tiny').filter((r) => !r.isBaseline)).toHaveLength(1);
    store.close();
  });
});
