import { describe, expect, it } from 'vitest';
import type { RunView } from '@squash/contract';
import { pivotTable, renderCsv, renderTerminal } from './index.js';

let n = 0;
function run(params: RunView['params'], metrics: RunView['metrics'], status: RunView['status'] = 'FINISHED'): RunView {
  n++;
  return {
    id: `r${n}`,
    experiment: 'e',
    trialId: `t${n}`,
    sweep: 's',
    label: 'l',
    isBaseline: false,
    status,
    seed: Number(params.seed ?? 1),
    attempt: 1,
    squashVersion: null,
    backend: 'wasm',
    startedAt: null,
    endedAt: null,
    error: null,
    params,
    metrics,
    artifacts: {},
    tags: {},
  };
}

const runs: RunView[] = [];
for (const bits of [16, 2, 8, 4])
  for (const scheme of ['symmetric', 'kmeans'])
    for (const seed of [1, 2, 3])
      runs.push(
        run(
          { 'quantize-weights.bits': bits, 'quantize-weights.scheme': scheme, seed },
          { accuracy: 0.9 + bits / 100 + seed / 1000 },
        ),
      );
runs.push(run({ 'quantize-weights.bits': 3, 'quantize-weights.scheme': 'pow2', seed: 1 }, { accuracy: 0.5 }));
runs.push(run({ 'quantize-weights.bits': 3, 'quantize-weights.scheme': 'pow2', seed: 2 }, {}, 'FAILED'));
runs.push(run({ 'prune-weights.retention': 0.5 }, { accuracy: 0.7 }));

describe('pivotTable', () => {
  const t = pivotTable(runs, { rows: 'quantize-weights.bits', columns: 'quantize-weights.scheme', metric: 'accuracy' });
  it('sorts numeric rows numerically and string columns alphabetically', () => {
    expect(t.rows.map((r) => r['quantize-weights.bits'])).toEqual([2, 3, 4, 8, 16]);
    expect(t.columns.map((c) => c.title)).toEqual([
      'quantize-weights.bits',
      'scheme=kmeans',
      'scheme=pow2',
      'scheme=symmetric',
    ]);
  });
  it('shows mean ± sample std with n over seeds, the bare value for one run, nothing for a missing pair', () => {
    // bits 4: 0.941, 0.942, 0.943 → mean 0.942, std 0.001
    const four = t.rows.find((r) => r['quantize-weights.bits'] === 4)!;
    expect(four['quantize-weights.scheme=kmeans']).toBe('0.942 ± 0.001 (n=3)');
    const three = t.rows.find((r) => r['quantize-weights.bits'] === 3)!;
    expect(three['quantize-weights.scheme=pow2']).toBe('0.5');
    expect(three['quantize-weights.scheme=kmeans']).toBeUndefined();
  });
  it('renders through the existing renderers', () => {
    const text = renderTerminal(t);
    expect(text).toMatch(/accuracy by quantize-weights\.bits/);
    expect(text.split('\n')[2]).toMatch(/^quantize-weights\.bits\s+scheme=kmeans\s+scheme=pow2\s+scheme=symmetric$/);
    expect(renderCsv(t).split('\r\n')[1]).toBe('2,0.922 ± 0.001 (n=3),,0.922 ± 0.001 (n=3)');
  });
  it('is empty (header only) when no run has both params', () => {
    const e = pivotTable(runs, { rows: 'nope', columns: 'quantize-weights.scheme', metric: 'accuracy' });
    expect(e.rows).toEqual([]);
    expect(e.columns).toHaveLength(1);
  });
});

describe('pivotTable averages seeds only', () => {
  // Two sweeps share bits × scheme; sweep "pq" also prunes at two retentions. Seeds differ in how
  // they ran (cache_hit, baseline_run) too: that must not split them.
  const mk = (sweep: string, bits: number, retention: number | undefined, seed: number, accuracy: number) => {
    const r = run(
      {
        'quantize-weights.bits': bits,
        'quantize-weights.scheme': 'symmetric',
        ...(retention === undefined ? {} : { 'prune-weights.retention': retention }),
        seed,
        cache_hit: seed > 1,
        baseline_run: `b${seed}`,
      },
      { accuracy },
    );
    return { ...r, sweep };
  };
  const mixed = [
    mk('q', 4, undefined, 1, 0.9),
    mk('q', 4, undefined, 2, 0.92),
    mk('pq', 4, 0.5, 1, 0.8),
    mk('pq', 4, 0.5, 2, 0.82),
    mk('pq', 4, 0.1, 1, 0.5),
  ];
  const t = pivotTable(mixed, {
    rows: 'quantize-weights.bits',
    columns: 'quantize-weights.scheme',
    metric: 'accuracy',
  });

  it('gives each configuration its own row, the varying axes as columns', () => {
    expect(t.columns.map((c) => c.key)).toEqual([
      'sweep',
      'prune-weights.retention',
      'quantize-weights.bits',
      'quantize-weights.scheme=symmetric',
    ]);
    expect(t.rows).toEqual([
      {
        sweep: 'pq',
        'prune-weights.retention': 0.1,
        'quantize-weights.bits': 4,
        'quantize-weights.scheme=symmetric': '0.5',
      },
      {
        sweep: 'pq',
        'prune-weights.retention': 0.5,
        'quantize-weights.bits': 4,
        'quantize-weights.scheme=symmetric': '0.81 ± 0.01414 (n=2)',
      },
      {
        sweep: 'q',
        'prune-weights.retention': '–',
        'quantize-weights.bits': 4,
        'quantize-weights.scheme=symmetric': '0.91 ± 0.01414 (n=2)',
      },
    ]);
    expect(t.title).toMatch(/mean ± std over seeds; one row per sweep, prune-weights\.retention too/);
  });

  it('keeps the plain layout when nothing else varies', () => {
    const one = pivotTable(
      mixed.filter((r) => r.sweep === 'q'),
      { rows: 'quantize-weights.bits', columns: 'quantize-weights.scheme', metric: 'accuracy' },
    );
    expect(one.columns.map((c) => c.key)).toEqual(['quantize-weights.bits', 'quantize-weights.scheme=symmetric']);
    expect(one.rows).toEqual([
      { 'quantize-weights.bits': 4, 'quantize-weights.scheme=symmetric': '0.91 ± 0.01414 (n=2)' },
    ]);
  });
});
