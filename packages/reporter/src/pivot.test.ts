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
