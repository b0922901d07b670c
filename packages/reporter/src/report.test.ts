import { describe, expect, it } from 'vitest';
import type { RunView } from '@squash/contract';
import { runView } from './__tests__/run_view.js';
import {
  comparisonTable,
  hideConstantColumns,
  renderCsv,
  renderJson,
  renderTerminal,
  reportTable,
  shownRows,
  type Table,
} from './index.js';

const run = runView;

const m = (accuracy: number, artifact_bytes: number) => ({
  accuracy,
  artifact_bytes,
  loss: 0.1,
  weights_kept_fraction: 1,
  weight_bits: 8,
});
const runs: RunView[] = [
  run({
    id: 'base',
    sweep: 'baseline',
    isBaseline: true,
    params: { model: 'mlp', epochs: 10 },
    metrics: m(0.98, 400_000),
  }),
  run({ id: 'q8', sweep: 'bits', label: 'q8', metrics: m(0.979, 100_000) }),
  run({ id: 'q4', sweep: 'bits', label: 'q4', metrics: m(0.97, 120_000) }),
  run({ id: 'q2', sweep: 'bits', label: 'q2', metrics: m(0.9, 50_000) }),
  run({ id: 'bad', sweep: 'bits', label: 'bad', status: 'FAILED', metrics: {} }),
];

describe('comparisonTable options', () => {
  it('has no front column unless asked', () => {
    expect(comparisonTable('e', runs).columns.map((c) => c.key)).not.toContain('front');
  });
  it('pareto: ★ on the front runs only (failed runs never)', () => {
    const t = comparisonTable('e', runs, { pareto: true });
    expect(t.columns[2]!.key).toBe('front');
    expect(Object.fromEntries(t.rows.map((r) => [r.id, r.front]))).toEqual({
      base: true,
      q8: true,
      q4: false,
      q2: true,
      bad: false,
    });
    const lines = renderTerminal(t).split('\n');
    expect(lines[5]).toMatch(/^bits\s+q8\s+★\s+97\.90/);
    expect(lines[6]).not.toContain('★');
  });
  it('hideConstant drops columns equal in every row but keeps sweep, trial, accuracy and front', () => {
    const t = comparisonTable('e', runs, { pareto: true, hideConstant: true });
    expect(t.columns.map((c) => c.key)).toEqual([
      'sweep',
      'trial',
      'front',
      'accuracy',
      'loss',
      'weights_kept_fraction',
      'weight_bits',
      'artifact_bytes',
      'status',
    ]);
    const same = comparisonTable('e', runs.slice(1, 3), { hideConstant: true });
    expect(same.columns.map((c) => c.key)).toEqual(['sweep', 'trial', 'accuracy', 'artifact_bytes']);
  });
  it('reportTable = pareto + hideConstant', () => {
    expect(renderTerminal(reportTable('e', runs))).toBe(
      renderTerminal(comparisonTable('e', runs, { pareto: true, hideConstant: true })),
    );
  });
});

describe('hideConstantColumns', () => {
  const t: Table = {
    columns: [
      { key: 'a', title: 'a', align: 'left' },
      { key: 'b', title: 'b', align: 'left' },
      { key: 'c', title: 'c', align: 'left' },
    ],
    rows: [
      { a: 1, b: null, c: 1 },
      { a: 1, c: 2 },
    ],
  };
  it('treats null and absent alike, and leaves single-row tables alone', () => {
    expect(hideConstantColumns(t).columns.map((c) => c.key)).toEqual(['c']);
    expect(hideConstantColumns(t, ['a']).columns.map((c) => c.key)).toEqual(['a', 'c']);
    expect(hideConstantColumns({ ...t, rows: [t.rows[0]!] }).columns).toHaveLength(3);
  });
});

describe('renderJson', () => {
  it('is one JSON document of raw values in column order, one row per line', () => {
    const t = comparisonTable(
      'e',
      [...runs, run({ id: 'weird', label: 'a "quoted" \n line', metrics: { accuracy: NaN } })],
      { pareto: true },
    );
    const text = renderJson(t);
    const doc = JSON.parse(text) as {
      title: string;
      columns: Array<{ key: string; title: string; align: string }>;
      rows: Array<Record<string, unknown>>;
    };
    expect(doc.title).toBe(t.title);
    expect(doc.columns.map((c) => c.key)).toEqual(t.columns.map((c) => c.key));
    expect(doc.rows).toHaveLength(6);
    expect(doc.rows[1]).toEqual({
      sweep: 'bits',
      trial: 'q8',
      front: true,
      accuracy: 0.979,
      accuracy_delta: null,
      loss: 0.1,
      weights_changed_fraction: null,
      weights_kept_fraction: 1,
      weight_bits: 8,
      activation_bits: null,
      artifact_bytes: 100000,
      compression_ratio: null,
      status: 'FINISHED',
    });
    expect(Object.keys(doc.rows[0]!)).toEqual(t.columns.map((c) => c.key));
    expect(doc.rows[5]!.trial).toBe('a "quoted" \n line');
    expect(doc.rows[5]!.accuracy).toBeNull();
    expect(text.split('\n')).toHaveLength(6 + 3);
    expect(renderJson({ columns: [], rows: [] })).toBe('{"columns":[],"rows":[]}\n');
  });
  it('csv of the pareto table carries the raw boolean', () => {
    expect(renderCsv(comparisonTable('e', runs, { pareto: true })).split('\r\n')[2]).toMatch(/^bits,q8,true,0\.979,/);
  });
});

describe('shownRows', () => {
  it('keeps baselines first, fills with the front, then table order, and returns table order', () => {
    const baseline = (i: number) => i === 3;
    expect(shownRows(6, 3, baseline, (i) => i === 5)).toEqual([3, 0, 5]);
    expect(shownRows(6, 10, baseline)).toEqual([3, 0, 1, 2, 4, 5]);
    // A front larger than the table: the first front rows in table order.
    expect(shownRows(6, 2, baseline, (i) => i >= 2)).toEqual([3, 2]);
    expect(shownRows(6, 0, baseline)).toEqual([]);
  });
});
