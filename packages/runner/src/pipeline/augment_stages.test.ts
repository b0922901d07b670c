import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@squash/backend';
import { type Dataset, loadDataset } from '@squash/datasets';
import { buildModel, resolveModelSpec } from '@squash/trainer';
import { planTrials } from '../plan.js';
import { parseSpec } from '../spec/parse.js';
import { runPipeline } from './run.js';
import type { PipelineContext } from './state.js';

const EXPERIMENT = `name: aug
model: { name: mlp, layers: [{ type: flatten }, { type: dense, units: 8, activation: relu }, { type: dense, units: 10, activation: softmax }] }
models:
  student: { name: student, layers: [{ type: flatten }, { type: dense, units: 4, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 64, test: 20 }, augment: { flip: true } }
train: { epochs: 1, batchSize: 16 }
sweeps:
  - name: finetune
    stages: [{ prune-weights: { retention: 0.5 } }, { finetune: { epochs: 1 } }]
  - name: iterative
    stages: [{ prune-iterative: { retention: 0.5, rounds: 2, epochs: 1 } }]
  - name: gradual
    stages: [{ prune-gradual: { retention: 0.5, epochs: 1, frequency: 2 } }]
  - name: distill
    stages: [{ distill: { student: student, epochs: 1 } }]
  - name: none
    stages: [{ quantize-weights: { bits: 8 } }]
`;

let data: Dataset;
beforeAll(async () => {
  await selectBackend({ prefer: 'cpu' });
  data = await loadDataset({ name: 'synthetic', samples: { train: 64, test: 20 } });
});

describe('every training stage trains on augmented batches', () => {
  it('finetune, prune-iterative, prune-gradual and distill call the dataset’s augmentation; a stage that does not train never does', async () => {
    const exp = parseSpec(EXPERIMENT, 'aug.yaml').experiment!;
    const spec = resolveModelSpec(exp.model);
    const calls: Record<string, number> = {};
    for (const trial of planTrials(exp)) {
      calls[trial.sweep] = 0;
      const ctx: PipelineContext = {
        data,
        calibration: data.train,
        teacher: buildModel(spec, data.inputShape, 1),
        train: trial.baseline.train,
        seed: 1,
        augment: (_b, n, at) => {
          expect(at.indices).toHaveLength(n);
          calls[trial.sweep]! += n;
        },
        resolveModel: (name) => ({ ...exp.models[name]!, name }),
        baselineId: trial.baselineId,
        models: exp.models,
      };
      const { state } = await runPipeline(ctx.teacher, spec, trial.stages, ctx);
      state.model.dispose();
    }
    // One epoch over 64 samples per training pass; iterative pruning retrains once per round.
    expect(calls).toEqual({ finetune: 64, iterative: 128, gradual: 64, distill: 64, none: 0 });
  });
});
