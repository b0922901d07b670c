import { describe, expect, it } from 'vitest';
import { planTrials } from './plan.js';
import { parseSpec } from './spec/parse.js';

/**
 * Literal ids of experiments that name no files: cached baselines and finished runs are found by
 * these ids, so a change to how ids are computed must leave them as they are (a deliberate change
 * bumps SQUASH_VERSION instead). Pinned before dataset identity and preprocessing joined the ids.
 */
const ids = (text: string) => {
  const { experiment, errors } = parseSpec(text, 'pinned.yaml');
  expect(errors.map((e) => e.describe())).toEqual([]);
  return planTrials(experiment!).map((t) => [t.baselineId, t.id]);
};

describe('ids of experiments without data files', () => {
  it('synthetic: unchanged', () => {
    expect(
      ids(`name: pinned
model: article-mlp
dataset: { name: synthetic, seed: 3, samples: { train: 200, test: 50 } }
train: { epochs: 2, batchSize: 16 }
seeds: [1, 2]
sweeps:
  - name: pq
    stages:
      - prune-weights: { retention: [0.5] }
      - quantize-weights: { bits: 4 }
      - finetune: { epochs: 1 }
`),
    ).toEqual([
      ['df70ca45c0c76ab8', '4324f7f5a72bdccc'],
      ['fc933d0868d96744', '0b78e9d77d1f659d'],
    ]);
  });

  it('mnist: unchanged', () => {
    expect(
      ids(`name: pinned-mnist
model: lenet-300-100
dataset: { name: mnist, limits: { train: 1000, test: 500 } }
sweeps:
  - name: q
    stages:
      - quantize-weights: { bits: [8, 4] }
`),
    ).toEqual([
      ['8ac65752dad2eb18', '1b8fb199866c824e'],
      ['8ac65752dad2eb18', 'd45cdb929534dfc4'],
    ]);
  });
});
