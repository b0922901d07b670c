import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '@squash/store';
import { SYNTHETIC_EXPERIMENT, tempDir } from './__tests__/fixtures.js';
import { runExperiment } from './execute.js';
import { expandSweeps } from './grid/expand.js';
import { planTrials } from './plan.js';
import { parseSpec } from './spec/parse.js';

vi.mock('./grid/expand.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('./grid/expand.js')>();
  return { ...mod, expandSweeps: vi.fn(mod.expandSweeps) };
});

describe('the plan, once per process', () => {
  it('parsing expands the grid once; planning and running reuse that expansion and that plan', async () => {
    const expansions = vi.mocked(expandSweeps);
    expansions.mockClear();
    const { experiment } = parseSpec(SYNTHETIC_EXPERIMENT, 'tiny.yaml');
    expect(expansions).toHaveBeenCalledTimes(1);
    const trials = planTrials(experiment!);
    expect(planTrials(experiment!)).toBe(trials);
    expect(Object.isFrozen(trials) && Object.isFrozen(trials[0]!.stages[0]!.params)).toBe(true);
    const dir = tempDir();
    const store = SqliteStore.open(join(dir, 'squash.db'));
    const summary = await runExperiment(experiment!, { store, cacheDir: join(dir, 'cache'), backend: 'wasm' });
    store.close();
    expect(summary.finished).toBe(trials.length);
    expect(expansions).toHaveBeenCalledTimes(1);
  });

  it('a parsed experiment is frozen; a changed copy is planned anew', () => {
    const { experiment } = parseSpec(SYNTHETIC_EXPERIMENT, 'tiny.yaml');
    const exp = experiment!;
    expect(() => {
      (exp as { name: string }).name = 'other';
    }).toThrow(TypeError);
    expect(() => exp.sweeps.pop()).toThrow(TypeError);
    const expansions = vi.mocked(expandSweeps);
    expansions.mockClear();
    const copy = { ...exp, sweeps: exp.sweeps.slice(0, 1) };
    expect(planTrials(copy).map((t) => t.sweep)).toEqual(['bits', 'bits']);
    expect(planTrials(copy)).not.toBe(planTrials(copy));
    expect(expansions).toHaveBeenCalledTimes(3);
  });
});
