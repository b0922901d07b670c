import { describe, expect, it } from 'vitest';
import { expandGrid, planTrials, trialLabel } from './plan.js';
import { parseSpec } from './spec/parse.js';

const spec = (sweeps: string, seeds = '[1]') => parseSpec(`name: e
model: article-mlp
dataset: { name: synthetic }
seeds: ${seeds}
sweeps:
${sweeps}`).experiment!;

describe('expandGrid', () => {
  it('is the cartesian product, first axis slowest', () => {
    expect(expandGrid([{ key: 'a', values: [1, 2] }, { key: 'b', values: ['x', 'y', 'z'] }])).toEqual([
      { a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 1, b: 'z' }, { a: 2, b: 'x' }, { a: 2, b: 'y' }, { a: 2, b: 'z' },
    ]);
    expect(expandGrid([])).toEqual([{}]);
  });
});

describe('planTrials', () => {
  it('crosses every axis of a pipeline and every seed', () => {
    const exp = spec(`  - name: pq
    stages:
      - prune-weights: { retention: [0.5, 0.2, 0.1] }
      - quantize-weights: { bits: [8, 4] }
`, '[1, 2]');
    const trials = planTrials(exp);
    expect(trials).toHaveLength(12);
    expect(new Set(trials.map((t) => t.id)).size).toBe(12);
    expect(new Set(trials.map((t) => t.baselineId)).size).toBe(2);
    expect(trials[0]!.stages).toEqual([
      { compressor: 'prune-weights', params: { retention: 0.5 } },
      { compressor: 'quantize-weights', params: { bits: 8 } },
    ]);
    expect(trialLabel(trials[1]!.stages)).toBe('prune-weights(retention=0.5) → quantize-weights(bits=4)');
  });

  it('gives a trial the same id in another file and sweep, and lists a shared point once', () => {
    const a = planTrials(spec(`  - name: one
    stages:
      - quantize-weights: { bits: [8, 4] }
  - name: two
    stages:
      - quantize-weights: { bits: 4 }
`));
    expect(a).toHaveLength(2);
    const b = planTrials(spec(`  - name: other
    stages:
      - quantize-weights: { bits: 4 }
`));
    expect(b[0]!.id).toBe(a[1]!.id);
  });

  it('changes the id when training changes', () => {
    const sweeps = `  - name: s
    stages:
      - quantize-weights: { bits: 4 }
`;
    const e1 = spec(sweeps);
    const e2 = { ...e1, train: { ...e1.train, epochs: 3 } };
    expect(planTrials(e1)[0]!.id).not.toBe(planTrials(e2)[0]!.id);
    expect(planTrials(e1)[0]!.baselineId).not.toBe(planTrials(e2)[0]!.baselineId);
  });
});
