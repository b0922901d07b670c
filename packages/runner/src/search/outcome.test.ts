import type { RunView } from '@squash/contract';
import { describe, expect, it } from 'vitest';
import { parseConstraint } from './constraint.js';
import { outcomeOf } from './outcome.js';
import type { SearchSpec } from './types.js';

const spec = (constraints: string[]): SearchSpec => ({
  name: 's',
  objective: { weights: { artifact_bytes: 1 }, text: 'minimize artifact_bytes' },
  constraints: constraints.map(parseConstraint),
  pipeline: [],
  budget: { trials: 10 },
  strategy: 'random',
  batch: 2,
  seed: 1,
});

const run = (
  id: string,
  val: number,
  bytes: number,
  status: RunView['status'] = 'FINISHED',
): { trialId: string; run: RunView } => ({
  trialId: id,
  run: {
    id: `run-${id}`,
    experiment: 'e',
    trialId: id,
    sweep: 's',
    label: id,
    isBaseline: false,
    status,
    seed: 1,
    attempt: 1,
    backend: 'cpu',
    squashVersion: null,
    startedAt: null,
    endedAt: null,
    error: null,
    params: {},
    // Test accuracy is recorded too, and must never decide anything.
    metrics: { val_accuracy: val, accuracy: 1 - val, artifact_bytes: bytes },
    artifacts: {},
    tags: {},
  },
});

describe('outcomeOf', () => {
  const baseline = { accuracy: 0.98 };
  it('chooses the smallest feasible candidate on validation, and marks the front', () => {
    const o = outcomeOf(spec(['accuracy >= baseline.accuracy - 0.005']), baseline, [
      run('a', 0.976, 900), // feasible
      run('b', 0.97, 500), // infeasible by 0.005, smaller
      run('c', 0.979, 1200), // feasible, bigger
      run('d', 0.99, 0, 'FAILED'),
    ]);
    expect(o.best?.trialId).toBe('a');
    expect(o.bestEffort).toBeUndefined();
    expect(o.candidates.map((c) => [c.trialId, c.feasible, c.front])).toEqual([
      ['a', true, true],
      ['b', false, true], // smaller than every feasible one: on the front of bytes vs shortfall
      ['c', true, false], // a is as feasible and smaller
      ['d', false, false], // failed: no score
    ]);
    expect(o.candidates[1]!.shortfalls[0]).toBeCloseTo(0.005);
    expect(o.bounds).toEqual([
      { metric: 'accuracy', value: expect.closeTo(0.975, 12), text: 'accuracy >= baseline.accuracy - 0.005' },
    ]);
  });

  it('with nothing feasible, names the nearest miss (least shortfall relative to each bound) and by how much', () => {
    const o = outcomeOf(spec(['accuracy >= baseline.accuracy', 'artifact_bytes <= 600']), baseline, [
      run('a', 0.975, 500), // misses accuracy by 0.005 (0.51 % of its bound)
      run('b', 0.979, 603), // misses accuracy by 0.001 and bytes by 3 (0.10 % + 0.5 %)
      run('c', 0.978, 550), // misses accuracy by 0.002 (0.20 %)
    ]);
    expect(o.best).toBeUndefined();
    expect(o.bestEffort?.trialId).toBe('c');
    expect(o.bestEffort?.shortfalls[0]).toBeCloseTo(0.002);
    expect(o.bestEffort?.shortfalls[1]).toBe(0);
    expect(o.candidates[1]!.miss).toBeCloseTo(0.001 / 0.98 + 3 / 600);
  });
});
