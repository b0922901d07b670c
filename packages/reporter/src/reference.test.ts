import { describe, expect, it } from 'vitest';
import { runView } from './__tests__/run_view.js';
import { referenceTable, renderCsv, renderMarkdown } from './index.js';

const run = runView;

describe('referenceTable', () => {
  it('puts published and measured side by side, averaging matching runs and ignoring others', () => {
    const runs = [
      run({ isBaseline: true, sweep: 'baseline', metrics: { accuracy: 0.9813 } }),
      run({ sweep: 'dc', params: { 'quantize-weights.bits': 5 }, metrics: { accuracy: 0.98, compression_ratio: 30 } }),
      run({
        sweep: 'dc',
        params: { 'quantize-weights.bits': 5 },
        seed: 2,
        metrics: { accuracy: 0.99, compression_ratio: 32 },
      }),
      run({ sweep: 'dc', params: { 'quantize-weights.bits': 6 }, metrics: { accuracy: 0.5, compression_ratio: 1 } }),
      run({ sweep: 'dc', status: 'FAILED', params: { 'quantize-weights.bits': 5 }, metrics: { accuracy: 0.1 } }),
    ];
    const t = referenceTable(
      {
        source: 'Han et al. 2016, Table 1',
        rows: [
          { name: 'LeNet-300-100 Ref', sweep: 'baseline', metrics: { accuracy: 0.9836 } },
          {
            name: 'LeNet-300-100 Compressed',
            sweep: 'dc',
            params: { 'quantize-weights.bits': 5 },
            metrics: { accuracy: 0.9842, compression_ratio: 40 },
          },
          { name: 'missing', sweep: 'nothing', metrics: { accuracy: 0.5 } },
        ],
      },
      runs,
    );
    // What a reader sees: each value in its metric's unit.
    const md = renderMarkdown(t).trim().split('\n');
    expect(md[4]).toBe('| LeNet-300-100 Ref | accuracy | 98.36 % | 98.13 % | -0.23 pts | 1 |');
    expect(md[5]).toBe('| LeNet-300-100 Compressed | accuracy | 98.42 % | 98.50 % | +0.08 pts | 2 |');
    expect(md[6]).toBe('| LeNet-300-100 Compressed | compression_ratio | 40.0× | 31.0× | -9.0× | 2 |');
    expect(md[7]).toBe('| missing | accuracy | 50.00 % | no run |  | 0 |');
    // What a spreadsheet gets: raw numbers (a formatted '-0.23 pts' would be a formula to it).
    const csv = renderCsv(t).trim().split('\r\n');
    expect(csv[1]).toMatch(/^LeNet-300-100 Ref,accuracy,0\.9836,0\.9813,-0\.0023\d*,1$/);
    expect(csv[2]).toMatch(/^LeNet-300-100 Compressed,accuracy,0\.9842,0\.985,0\.0008\d*,2$/);
    expect(csv[3]).toBe('LeNet-300-100 Compressed,compression_ratio,40,31,-9,2');
    expect(csv[4]).toBe('missing,accuracy,0.5,,,0');
    expect(t.title).toMatch(/Han et al\. 2016, Table 1/);
  });
});
