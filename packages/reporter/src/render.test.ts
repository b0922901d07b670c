import { describe, expect, it } from 'vitest';
import type { RunView } from '@squash/contract';
import { runView } from './__tests__/run_view.js';
import { comparisonTable, renderCsv, renderMarkdown, renderTerminal, type Table } from './index.js';

const run = runView;

const runs: RunView[] = [
  run({
    sweep: 'bits',
    label: 'quantize-weights(bits=4)',
    metrics: {
      accuracy: 0.9712,
      accuracy_delta: -0.0065,
      loss: 0.1,
      weights_changed_fraction: 1,
      weights_kept_fraction: 0.7,
      weight_bits: 4,
      artifact_bytes: 102400,
      compression_ratio: 3.97,
    },
  }),
  run({
    sweep: 'baseline',
    label: 'baseline',
    isBaseline: true,
    params: { model: 'article-mlp', epochs: 10 },
    metrics: { accuracy: 0.9777, accuracy_delta: 0, loss: 0.08 },
  }),
  run({ sweep: 'odd', label: 'a "quoted", | piped', status: 'FAILED', metrics: {} }),
];

describe('comparisonTable', () => {
  it('puts the baseline first and formats deltas in points', () => {
    const text = renderTerminal(comparisonTable('e', runs));
    const lines = text.split('\n');
    expect(lines[2]).toMatch(/^sweep\s+trial\s+acc %\s+Δ pts/);
    expect(lines[4]).toMatch(/^baseline\s+baseline \(article-mlp, 10 epochs\)\s+97\.77\s+\+0\.00/);
    expect(lines[5]).toMatch(
      /^bits\s+quantize-weights\(bits=4\)\s+97\.12\s+-0\.65\s+0\.1000\s+100\.0\s+70\.0\s+4\s+100\.0\s+4\.0×\s+FINISHED$/,
    );
    expect(lines[6]).toMatch(/FAILED$/);
  });

  it('tells baselines of train: axes apart, and says iterations when they decided the length', () => {
    const baseline = (label: string, params: RunView['params']) =>
      run({ sweep: 'baseline', label, isBaseline: true, params: { model: 'lenet', ...params }, metrics: {} });
    const t = comparisonTable('e', [
      baseline('baseline(learningRate=0.01,optimizer=sgd)', { epochs: 2, learning_rate: 0.01, optimizer: 'sgd' }),
      baseline('baseline(learningRate=0.05,optimizer=sgd)', { epochs: 2, learning_rate: 0.05, optimizer: 'sgd' }),
      baseline('baseline', { iterations: 10000, learning_rate: 0.01 }),
    ]);
    expect(t.rows.map((r) => r.trial)).toEqual([
      'baseline (lenet, 2 epochs, learningRate=0.01,optimizer=sgd)',
      'baseline (lenet, 2 epochs, learningRate=0.05,optimizer=sgd)',
      'baseline (lenet, 10000 iterations)',
    ]);
  });
});

describe('renderers', () => {
  const t: Table = comparisonTable('e', runs);
  it('csv keeps raw numbers and quotes per RFC 4180', () => {
    const csv = renderCsv(t).split('\r\n');
    expect(csv[0]).toBe(
      'sweep,trial,accuracy,accuracy_delta,loss,weights_changed_fraction,weights_kept_fraction,weight_bits,activation_bits,artifact_bytes,compression_ratio,status',
    );
    expect(csv[2]).toBe('bits,quantize-weights(bits=4),0.9712,-0.0065,0.1,1,0.7,4,,102400,3.97,FINISHED');
    expect(csv[3]).toBe('odd,"a ""quoted"", | piped",,,,,,,,,,FAILED');
  });
  it('markdown escapes pipes and right-aligns numbers', () => {
    const md = renderMarkdown(t).split('\n');
    expect(md[2]).toBe(
      '| sweep | trial | acc % | Δ pts | loss | changed % | kept % | w bits | a bits | KB | ratio | status |',
    );
    expect(md[3]).toBe('|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|');
    expect(md[6]).toContain('a "quoted", \\| piped');
  });
  it('terminal output fits a given width by wrapping the widest text column, every character kept', () => {
    const tail = (end: string) => `quantize-weights(${'scheme=symmetric,'.repeat(8)}bits=${end})`;
    const long = comparisonTable('e', [
      run({ id: 'a', label: tail('4'), metrics: { accuracy: 0.5 } }),
      run({ id: 'b', label: tail('8'), metrics: { accuracy: 0.6 } }),
    ]);
    const lines = renderTerminal(long, 100).split('\n').slice(2).filter(Boolean);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    expect(lines.join('\n')).not.toContain('…');
    // Each row is its first line plus the indented continuation lines that follow; the label column
    // (the second) read back from them is the whole label.
    const width = lines[1]!.split('  ')[1]!.length;
    const start = lines[1]!.indexOf(lines[1]!.split('  ')[1]!);
    const rows: string[] = [];
    for (const l of lines.slice(2)) {
      const piece = l.slice(start, start + width).trimEnd();
      if (l.startsWith('s ')) rows.push(piece);
      else rows[rows.length - 1] += piece.replace(/^ {2}/, '');
    }
    expect(rows).toEqual([tail('4'), tail('8')]);
  });
  it('renders 200,000 rows (no spread over rows)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ n: i + 1, trial: `t${i}` }));
    const t: Table = {
      columns: [
        { key: 'n', title: '#', align: 'right' },
        { key: 'trial', title: 'trial', align: 'left' },
      ],
      rows,
    };
    const text = renderTerminal(t, 80);
    expect(text.split('\n')).toHaveLength(200_000 + 3);
    expect(text.endsWith('200000  t199999\n')).toBe(true);
    expect(renderMarkdown(t).split('\n')).toHaveLength(200_000 + 3);
    expect(renderCsv(t).split('\r\n')).toHaveLength(200_000 + 2);
  });
});
