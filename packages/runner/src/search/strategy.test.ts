import { describe, expect, it } from 'vitest';
import { allocationLadder, curveValues, type LayerCurve, sensitivityStrategy } from './sensitivity.js';
import { candidateStages, dimensionsOf, roundValue, valueAt } from './space.js';
import { assignmentKey, type Observation, randomStrategy } from './strategy.js';
import type { WrittenSearchStage } from './types.js';

const PIPELINE: WrittenSearchStage[] = [
  {
    'prune-weights': {
      retention: { 'per-layer': { min: 0.02, max: 0.5, log: true } },
      layers: [{ match: 'dense_3', skip: true }],
    },
  },
  {
    'quantize-weights': { scheme: 'kmeans', bits: { 'per-layer': [3, 4, 6] }, layers: [{ match: 'dense_1', bits: 8 }] },
  },
  { finetune: { epochs: [1, 2] } },
];
const LAYERS = ['dense_1', 'dense_2', 'dense_3'];

describe('search spaces', () => {
  it('has one dimension per layer a per-layer space reaches, one per global space', () => {
    const dims = dimensionsOf(PIPELINE, LAYERS);
    expect(dims.map((d) => `${d.stage}.${d.param}@${d.layer ?? '*'}`)).toEqual([
      '0.retention@dense_1',
      '0.retention@dense_2', // dense_3 is skipped
      '1.bits@dense_2',
      '1.bits@dense_3', // dense_1's bits are written
      '2.epochs@*',
    ]);
  });

  it('turns an assignment into concrete stages with per-layer overrides', () => {
    const dims = dimensionsOf(PIPELINE, LAYERS);
    expect(candidateStages(PIPELINE, dims, [0.1, 0.2, 4, 6, 2])).toEqual([
      {
        'prune-weights': {
          retention: 0.1,
          layers: [
            { match: 'dense_1', retention: 0.1 },
            { match: 'dense_2', retention: 0.2 },
            { match: 'dense_3', skip: true },
          ],
        },
      },
      {
        'quantize-weights': {
          scheme: 'kmeans',
          bits: 4,
          layers: [
            { match: 'dense_2', bits: 4 },
            { match: 'dense_3', bits: 6 },
            { match: 'dense_1', bits: 8 },
          ],
        },
      },
      { finetune: { epochs: 2 } },
    ]);
  });

  it('rounds to three significant digits and maps u ∈ [0, 1] log-uniformly', () => {
    expect(roundValue(0.0123456, false)).toBe(0.0123);
    expect(roundValue(123456, false)).toBe(123000);
    expect(roundValue(2.5, true)).toBe(3);
    const log = { kind: 'range', min: 0.01, max: 1, log: true, integer: false } as const;
    expect(valueAt(log, 0)).toBe(0.01);
    expect(valueAt(log, 0.5)).toBe(0.1);
    expect(valueAt(log, 1)).toBe(1);
    expect(valueAt({ kind: 'choice', values: [3, 4, 6] }, 0.99)).toBe(6);
    expect(curveValues({ kind: 'range', min: 2, max: 5, log: false, integer: true })).toEqual([2, 3, 4, 5]);
  });
});

const observe = (values: Observation['values'], feasible: boolean, score: number): Observation => ({
  values,
  feasible,
  shortfall: feasible ? 0 : 1,
  score,
});

describe('random strategy', () => {
  const dims = dimensionsOf(PIPELINE, LAYERS);
  it('is deterministic for a seed, and another seed draws other points', () => {
    const a = randomStrategy(dims, 1).propose([], 4);
    expect(randomStrategy(dims, 1).propose([], 4)).toEqual(a);
    expect(randomStrategy(dims, 2).propose([], 4)).not.toEqual(a);
    expect(new Set(a.map(assignmentKey)).size).toBe(4);
  });

  it('continues the same stream after a batch and never proposes a tried point', () => {
    const s = randomStrategy(dims, 7);
    const first = s.propose([], 3);
    const next = s.propose(
      first.map((v) => observe(v, true, 1)),
      3,
    );
    expect(next).toEqual(
      randomStrategy(dims, 7).propose(
        first.map((v) => observe(v, false, 2)),
        3,
      ),
    );
    for (const v of next) expect(first.map(assignmentKey)).not.toContain(assignmentKey(v));
  });
});

// Two layers with hand-made curves (dimensions 0 and 1: their retention): bytes fall and accuracy drops as retention falls.
const CURVES: LayerCurve[] = [
  {
    layer: 'big',
    dims: [0],
    options: [
      { values: [0.1], bytes: 100, drop: 0.05 },
      { values: [0.3], bytes: 300, drop: 0.01 },
      { values: [1], bytes: 1000, drop: 0 },
    ],
  },
  {
    layer: 'small',
    dims: [1],
    options: [
      { values: [0.1], bytes: 10, drop: 0.2 },
      { values: [0.3], bytes: 30, drop: 0.02 },
      { values: [1], bytes: 100, drop: 0 },
    ],
  },
];

describe('sensitivity strategy', () => {
  it('ladders allocations from the smallest to the least damaged (bytes + λ·drop per layer)', () => {
    // big: 0.1 while λ < 5,000, 0.3 while λ < 70,000, then 1; small: 0.1 while λ < 111, 0.3 while λ < 3,500, then 1.
    expect(allocationLadder(CURVES)).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
  });

  it('bisects the ladder, then refines the best feasible candidate one layer at a time', () => {
    const s = sensitivityStrategy(CURVES, [1, 1], true);
    const first = s.propose([], 2);
    // Five rungs, two proposals spread inside: rungs 1 and 3.
    expect(first).toEqual([
      [0.1, 0.3],
      [0.3, 1],
    ]);
    // Rung 1 infeasible, rung 3 feasible: the only rung between is 2.
    const h1 = [observe(first[0]!, false, 130), observe(first[1]!, true, 400)];
    expect(s.propose(h1, 2)).toEqual([[0.1, 1]]);
    // Rung 2 infeasible too: bisection is done; refine rung 3 (big 0.3, small 1) toward fewer bytes,
    // best gain per risk first: small 1 → 0.3 saves 70 bytes for 0.02 (3,483 per unit), small → 0.1
    // saves 90 for 0.2 (450); big → 0.1 was tried, and trading big up for small down saves nothing.
    const h2 = [...h1, observe([0.1, 1], false, 200)];
    expect(s.propose(h2, 3)).toEqual([
      [0.3, 0.3],
      [0.3, 0.1],
    ]);
    // Deterministic: the same history gives the same batch.
    expect(sensitivityStrategy(CURVES, [1, 1], true).propose(h2, 3)).toEqual(s.propose(h2, 3));
    // A better feasible model becomes the anchor: from (0.3, 0.3) the moves go on down — both layers
    // (220 bytes for 0.22: 1,000 per unit) before small alone (20 for 0.18); big alone was tried.
    const h3 = [...h2, observe([0.3, 0.3], true, 330)];
    expect(s.propose(h3, 4)).toEqual([
      [0.1, 0.1],
      [0.3, 0.1],
    ]);
  });

  it('moves toward larger settings from the nearest miss when nothing is feasible', () => {
    const s = sensitivityStrategy(CURVES, [1, 1], true);
    const all = [
      [0.1, 0.1],
      [0.1, 0.3],
      [0.1, 1],
      [0.3, 1],
      [1, 1],
    ].map((v, i) => ({ ...observe(v, false, 100 * i), shortfall: i === 1 ? 0.001 : 0.5 }));
    // Nearest miss: rung 1 (big 0.1, small 0.3); moves that lower its drop, least bytes per drop removed first.
    expect(s.propose(all, 4)).toEqual([
      [0.3, 0.3],
      [1, 0.3],
    ]);
    // Nothing left to bisect or move: the explorer (when given) spends the rest.
    const tried = [...all, observe([0.3, 0.3], false, 1), observe([1, 0.3], false, 1), observe([0.3, 0.1], false, 1)];
    expect(s.propose(tried, 2)).toEqual([]);
    const explore = {
      propose: () => [
        [0.1, 0.1] /* tried: skipped */,
        [1, 0.1],
      ],
    };
    expect(sensitivityStrategy(CURVES, [1, 1], true, explore).propose(tried, 2)).toEqual([[1, 0.1]]);
  });
});
