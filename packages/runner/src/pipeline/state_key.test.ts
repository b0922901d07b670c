import { describe, expect, it } from 'vitest';
import { SQUASH_VERSION, stableHash } from '@squash/core';
import type { ModelSpec } from '@squash/trainer/specs';
import { planTrials, trialId } from '../plan.js';
import { parseSpec } from '../spec/parse.js';
import type { Stage } from '../spec/types.js';
import { modelsNamedBy } from '../stages/registry.js';
import { stateKey } from './run.js';

const model = (units: number): ModelSpec => ({
  name: `m${units}`,
  layers: [{ type: 'flatten' }, { type: 'dense', units, activation: 'softmax' }],
});

describe('state-cache key', () => {
  const stages: Stage[] = [
    { compressor: 'distill', params: { student: 'small', epochs: 1 } },
    { compressor: 'finetune', params: { epochs: 1 } },
  ];
  const ctx = { baselineId: 'b', models: { small: model(10), unused: model(20) } };

  it('hashes the models the stages so far name, as the trial id does; another model of `models:` changes nothing', () => {
    const key = stateKey(ctx, stages, 1);
    expect(stateKey({ ...ctx, models: { small: model(10) } }, stages, 1)).toBe(key);
    expect(stateKey({ ...ctx, models: { ...ctx.models, unused: model(30) } }, stages, 1)).toBe(key);
    expect(stateKey({ ...ctx, models: { ...ctx.models, small: model(12) } }, stages, 1)).not.toBe(key);
    expect(key).toBe(
      stableHash({
        kind: 'pipeline-state',
        baseline: 'b',
        stages,
        models: { small: model(10) },
        version: SQUASH_VERSION,
      }),
    );
  });

  it('is unchanged for stages that name no model (the key experiments without `models:` always had)', () => {
    const plain: Stage[] = [{ compressor: 'prune-weights', params: { retention: 0.5 } }, stages[1]!];
    expect(stateKey(ctx, plain, 1)).toBe(
      stableHash({ kind: 'pipeline-state', baseline: 'b', stages: plain, models: {}, version: SQUASH_VERSION }),
    );
  });

  it('leaves out params written at their declared default, as the trial id does', () => {
    const omitted: Stage[] = [{ compressor: 'prune-iterative', params: { retention: 0.5, rounds: 2, epochs: 1 } }];
    const written: Stage[] = [{ ...omitted[0]!, params: { ...omitted[0]!.params, scope: 'layer' } }];
    expect(stateKey(ctx, written, 0)).toBe(stateKey(ctx, omitted, 0));
    expect(stateKey(ctx, omitted, 0)).toBe(
      stableHash({ kind: 'pipeline-state', baseline: 'b', stages: omitted, models: {}, version: SQUASH_VERSION }),
    );
    const global: Stage[] = [{ ...omitted[0]!, params: { ...omitted[0]!.params, scope: 'global' } }];
    expect(stateKey(ctx, global, 0)).not.toBe(stateKey(ctx, omitted, 0));
  });

  it('the trial id hashes the same model set (modelsNamedBy) for a planned trial', () => {
    const { experiment } = parseSpec(
      `name: e
model: lenet-300-100
models:
  small: { name: small, layers: [{ type: flatten }, { type: dense, units: 10, activation: softmax }] }
  other: { name: other, layers: [{ type: flatten }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic }
sweeps:
  - name: s
    stages:
      - distill: { student: small, epochs: 1 }
      - finetune: { epochs: 1 }
`,
      'e.yaml',
    );
    const [t] = planTrials(experiment!);
    expect(Object.keys(modelsNamedBy(t!.stages, experiment!.models))).toEqual(['small']);
    expect(trialId(t!.baseline, t!.stages, modelsNamedBy(t!.stages, experiment!.models))).toBe(t!.id);
  });
});
