import { describe, expect, it } from 'vitest';
import { runView } from './__tests__/run_view.js';
import { comparisonTable, dataDescription, renderHtml } from './index.js';

const SHA = 'fa104a8ab4fcf54cbdb6522ff01f2f0da14ed56a58f4b34ed6e08933e100f19b';
const idxParams = {
  model: 'm',
  epochs: 2,
  dataset: 'idx',
  'dataset.path': 'data/digits',
  'dataset.sha256': SHA,
  'dataset.normalize': 'mean=per-channel,std=per-channel',
  'dataset.normalize.mean': '0.1307',
  'dataset.normalize.std': '0.3081',
  'dataset.augment': 'flip,shift=1',
};

describe('dataDescription', () => {
  it('says where the files lay, their hash, the normalization with its statistics and the augmentation', () => {
    expect(dataDescription([runView({ params: idxParams })])).toBe(
      'idx data/digits (sha256 fa104a8ab4fc), normalize mean=per-channel,std=per-channel (mean 0.1307, std 0.3081), augment flip,shift=1',
    );
  });

  it('says nothing for data identified by its kind alone (mnist, synthetic), as reports did before', () => {
    expect(dataDescription([runView({ params: { dataset: 'mnist', model: 'm' } })])).toBeUndefined();
  });

  it('lists each distinct description once', () => {
    const moved = { ...idxParams, 'dataset.path': 'elsewhere' };
    expect(
      dataDescription([runView({ params: idxParams }), runView({ params: idxParams }), runView({ params: moved })]),
    ).toMatch(/^idx data\/digits .*; idx elsewhere /);
  });

  it('is in the comparison table’s title and the HTML page (escaped), only when there is something to say', () => {
    const runs = [runView({ id: 'b', isBaseline: true, params: { ...idxParams, 'dataset.path': '<x>' } })];
    expect(comparisonTable('e', runs).title).toMatch(
      /^e: 0 trials, backend wasm; data idx <x> \(sha256 fa104a8ab4fc\)/,
    );
    const html = renderHtml('e', runs);
    expect(html).toContain('<p class="summary">data: idx &lt;x&gt; (sha256 fa104a8ab4fc)');
    const plain = [runView({ id: 'b', isBaseline: true, params: { dataset: 'mnist' } })];
    expect(comparisonTable('e', plain).title).toBe('e: 0 trials, backend wasm');
    expect(renderHtml('e', plain)).not.toContain('<p class="summary">data:');
  });
});
