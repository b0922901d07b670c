import { describe, expect, it } from 'vitest';
import { OPTIMIZER_FIELD_NAMES } from '@squash/trainer/specs';
import { baselineLabel, planTrials, trialLabel } from '../plan.js';
import { parseSpec } from './parse.js';
import { TRAIN_FIELD_NAMES } from './train_fields.js';

/** Line 4 is `train:`; the second stage (sweeps[0].stages[1]) is on line 10. */
const file = (train: string, stage = 'finetune: { epochs: 1 }', seeds = '[1]') => `name: t
model: article-mlp
dataset: { name: synthetic }
train: ${train}
seeds: ${seeds}
sweeps:
  - name: s
    stages:
      - prune-weights: { retention: [0.5, 0.2] }
      - ${stage}
`;

const parsed = (text: string) => {
  const { experiment, errors } = parseSpec(text, 'x.yaml');
  expect(errors.map((e) => e.describe())).toEqual([]);
  return experiment!;
};
const errorsOf = (text: string) => parseSpec(text, 'x.yaml').errors.map((e) => e.describe());

describe('train: fields', () => {
  it('declares every optimizer field of the trainer', () => {
    for (const f of OPTIMIZER_FIELD_NAMES) expect(TRAIN_FIELD_NAMES).toContain(f);
  });

  it.each([
    ['optimizer: sgd', { optimizer: 'sgd' }],
    ['optimizer: adamw', { optimizer: 'adamw' }],
    ['optimizer: sgd, momentum: 0.9', { momentum: 0.9 }],
    ['optimizer: sgd, momentum: 0.9, nesterov: true', { nesterov: true }],
    ['beta1: 0.8', { beta1: 0.8 }],
    ['beta2: 0.99', { beta2: 0.99 }],
    ['epsilon: 1.0e-8', { epsilon: 1e-8 }],
    ['weightDecay: 0.0005', { weightDecay: 0.0005 }],
    ['schedule: cosine, minLearningRate: 0.0001', { schedule: 'cosine', minLearningRate: 0.0001 }],
    ['schedule: inv, gamma: 0.0001, power: 0.75', { schedule: 'inv', gamma: 0.0001, power: 0.75 }],
    ['schedule: step, stepSize: 100, gamma: 0.5', { schedule: 'step', stepSize: 100 }],
    ["schedule: multistep, milestones: '50,80'", { schedule: 'multistep', milestones: '50,80' }],
    ['warmupSteps: 20', { warmupSteps: 20 }],
    ['gradClipNorm: 5', { gradClipNorm: 5 }],
    ['labelSmoothing: 0.1', { labelSmoothing: 0.1 }],
    ['iterations: 500', { iterations: 500 }],
    ['epochs: 2, batchSize: 64, learningRate: 0.01, validationSplit: 0.1', { epochs: 2, batchSize: 64 }],
  ])('{ %s } reaches the baseline', (fields, want) => {
    const [trial] = planTrials(parsed(file(`{ ${fields} }`)));
    expect(trial!.baseline.train).toMatchObject(want);
    expect(trial!.trainAxes).toBeUndefined();
  });

  it('fills in the four baseline defaults and nothing else', () => {
    expect(planTrials(parsed(file('{ iterations: 7 }')))[0]!.baseline.train).toEqual({
      iterations: 7,
      epochs: 10,
      batchSize: 32,
      learningRate: 0.001,
      validationSplit: 0,
    });
  });
});

describe('train: errors, located at the field', () => {
  it.each([
    [
      '{ optimizer: sgdd }',
      "x.yaml:4:21: train.optimizer: expected one of: adam, adamw, sgd; got 'sgdd' (string); did you mean 'sgd'?",
    ],
    [
      '{ optimizer: [adam, rmsprop] }',
      "x.yaml:4:28: train.optimizer[1]: expected one of: adam, adamw, sgd; got 'rmsprop' (string)",
    ],
    ['{ optimizer: sgd, nesterov: true }', 'x.yaml:4:36: train.nesterov: nesterov needs momentum > 0'],
    ['{ momentum: 0.9 }', 'x.yaml:4:20: train.momentum: momentum is an sgd setting; optimizer is adam'],
    ['{ optimizer: sgd, momentum: 1.5 }', 'x.yaml:4:36: train.momentum: must be <= 0.9999, got 1.5 (number)'],
    [
      "{ schedule: multistep, milestones: '800,500' }",
      "x.yaml:4:43: train.milestones: expected ascending steps, got '800,500'",
    ],
    [
      "{ schedule: multistep, milestones: '5k' }",
      "x.yaml:4:43: train.milestones: expected ascending positive integers separated by commas (e.g. '5000,8000'), got '5k'",
    ],
    [
      '{ schedule: multistep }',
      "x.yaml:4:8: train.milestones: schedule 'multistep' needs milestones, e.g. '5000,8000'",
    ],
    [
      '{ schedule: step }',
      "x.yaml:4:8: train.stepSize: schedule 'step' needs stepSize (optimizer steps between decays)",
    ],
    ['{ schedule: step, stepSize: 0 }', 'x.yaml:4:36: train.stepSize: must be >= 1, got 0 (number)'],
    ['{ epochs: 2, iterations: 100 }', 'x.yaml:4:33: train.iterations: give epochs or iterations, not both'],
    [
      '{ iterations: 2.5 }',
      'x.yaml:4:22: train.iterations: expected integer, list or range/linspace/logspace, got 2.5 (number)',
    ],
    ['{ labelSmoothing: 1 }', 'x.yaml:4:26: train.labelSmoothing: must be <= 0.99, got 1 (number)'],
    ['{ nesterov: yes }', "x.yaml:4:20: train.nesterov: expected boolean or list, got 'yes' (string)"],
    ['{ learningRate: [0.01, 0] }', 'x.yaml:4:31: train.learningRate[1]: must be > 0, got 0 (number)'],
    [
      '{ learningRate: { logspace: { start: -3, stop: -1, num: 3, base: 1 } } }',
      'x.yaml:4:73: train.learningRate.logspace.base: base must not be 1 (every value would be 1)',
    ],
    [
      '{ validationSplit: { range: { start: 0.5, stop: 1.5, step: 0.5 } } }',
      'x.yaml:4:27: train.validationSplit: validationSplit must be < 1, got 1',
    ],
    ['{ optimiser: sgd }', "x.yaml:4:10: train.optimiser: unknown key 'optimiser'; did you mean 'optimizer'?"],
  ])('%s', (train, want) => {
    const got = errorsOf(file(train));
    expect(got).toHaveLength(1);
    expect(got[0] === want || got[0]!.startsWith(`${want} (`), `got ${got[0]}\nwant ${want}`).toBe(true);
  });

  it('names the train point a problem belongs to when train: has axes', () => {
    expect(errorsOf(file('{ optimizer: sgd, nesterov: true, momentum: [0.9, 0] }'))).toEqual([
      'x.yaml:4:36: train.nesterov: nesterov needs momentum > 0 (with train momentum=0)',
    ]);
  });
});

describe('training stages: optimizer fields inherit train:', () => {
  it.each([
    [
      'a stage field that clashes with the baseline optimizer',
      '{ optimizer: adam }',
      'finetune: { epochs: 1, nesterov: true }',
      [
        'x.yaml:10:42: sweeps[0].stages[1].finetune.nesterov: nesterov needs momentum > 0',
        'x.yaml:10:42: sweeps[0].stages[1].finetune.nesterov: nesterov is an sgd setting; optimizer is adam',
      ],
    ],
    [
      'an inherited field the stage makes wrong',
      '{ optimizer: sgd, momentum: 0.9, nesterov: true }',
      'finetune: { epochs: 1, momentum: 0 }',
      [
        'x.yaml:10:19: sweeps[0].stages[1].finetune.nesterov: nesterov needs momentum > 0 (nesterov is inherited from train.nesterov)',
      ],
    ],
    [
      'a schedule whose required field is missing',
      '{ optimizer: sgd, schedule: step, stepSize: 10 }',
      'prune-gradual: { retention: 0.5, epochs: 1, schedule: multistep }',
      [
        "x.yaml:10:24: sweeps[0].stages[1].prune-gradual.milestones: schedule 'multistep' needs milestones, e.g. '5000,8000'",
      ],
    ],
    [
      'one value of a stage axis',
      '{ optimizer: sgd }',
      'prune-iterative: { retention: 0.5, rounds: 2, epochs: 1, schedule: step, stepSize: [0, 5] }',
      ['x.yaml:10:93: sweeps[0].stages[1].prune-iterative.stepSize[0]: must be >= 1, got 0 (number)'],
    ],
    [
      'epochs and iterations on a stage',
      '{ }',
      'finetune: { epochs: 1, iterations: 10 }',
      ['x.yaml:10:44: sweeps[0].stages[1].finetune.iterations: give epochs or iterations, not both'],
    ],
    [
      'neither epochs nor iterations',
      '{ }',
      'finetune: { optimizer: sgd }',
      [
        "x.yaml:10:19: sweeps[0].stages[1].finetune.epochs: missing required parameter 'epochs' (an integer in [1, 1000])",
      ],
    ],
  ])('%s', (_name, train, stage, want) => {
    const got = errorsOf(file(train, stage));
    expect(got).toHaveLength(want.length);
    want.forEach((w, k) => expect(got[k] === w || got[k]!.startsWith(`${w} (`), `got ${got[k]}\nwant ${w}`).toBe(true));
  });

  it.each([
    [
      'adam on a stage after an sgd baseline with momentum',
      '{ optimizer: sgd, momentum: 0.9, nesterov: true }',
      'finetune: { epochs: 1, optimizer: adam }',
    ],
    [
      'the stage supplies what the schedule needs',
      '{ optimizer: sgd }',
      'finetune: { epochs: 1, schedule: step, stepSize: 5 }',
    ],
    ['iterations instead of epochs', '{ }', 'finetune: { iterations: 50, optimizer: sgd, momentum: 0.9 }'],
    [
      'every field a stage takes',
      '{ }',
      "finetune: { epochs: 1, optimizer: sgd, momentum: 0.9, nesterov: true, beta1: 0.8, beta2: 0.99, epsilon: 1.0e-8, weightDecay: 0.0001, schedule: multistep, gamma: 0.5, power: 1, stepSize: 3, milestones: '2,4', warmupSteps: 1, minLearningRate: 0, gradClipNorm: 1, labelSmoothing: 0.1 }",
    ],
  ])('accepts %s', (_name, train, stage) => {
    expect(errorsOf(file(train, stage))).toEqual([]);
  });

  it('reports each stage param against the schema the training stages share, once, at its own stage', () => {
    expect(
      errorsOf(`name: t
model: article-mlp
dataset: { name: synthetic }
defaults:
  finetune: { momentum: [0.9] }
sweeps:
  - name: s
    stages:
      - finetune: { epochs: 1, momentum: x }
      - finetune: { epochs: 1, nesterov: [1], schedule: [cosin] }
      - prune-gradual: { retention: 0.5, epochs: 1, weightDecay: { range: { start: 0, stop: 1 } } }
`),
    ).toEqual([
      'x.yaml:5:25: defaults.finetune.momentum: expected number, got a list (defaults hold single values; put the list in a sweep)',
      'x.yaml:10:43: sweeps[0].stages[1].finetune.nesterov[0]: expected boolean, got 1 (number)',
      "x.yaml:10:58: sweeps[0].stages[1].finetune.schedule[0]: expected one of: constant, step, multistep, cosine, inv; got 'cosin' (string); did you mean 'cosine'?",
      "x.yaml:11:75: sweeps[0].stages[2].prune-gradual.weightDecay.range: missing required key 'step'",
      "x.yaml:9:42: sweeps[0].stages[0].finetune.momentum: expected number, list or range/linspace/logspace, got 'x' (string)",
    ]);
  });

  it('stage optimizer fields are grid axes with defaults: and expressions', () => {
    const exp = parsed(`name: t
model: article-mlp
dataset: { name: synthetic }
train: { optimizer: sgd }
defaults:
  finetune: { epochs: 1, momentum: 0.9 }
sweeps:
  - name: s
    stages:
      - finetune: { weightDecay: { logspace: { start: -5, stop: -3, num: 3 } }, nesterov: [false, true] }
`);
    expect(planTrials(exp).map((t) => trialLabel(t.stages))).toEqual([
      'finetune(weightDecay=0.00001,nesterov=false,epochs=1,momentum=0.9)',
      'finetune(weightDecay=0.00001,nesterov=true,epochs=1,momentum=0.9)',
      'finetune(weightDecay=0.0001,nesterov=false,epochs=1,momentum=0.9)',
      'finetune(weightDecay=0.0001,nesterov=true,epochs=1,momentum=0.9)',
      'finetune(weightDecay=0.001,nesterov=false,epochs=1,momentum=0.9)',
      'finetune(weightDecay=0.001,nesterov=true,epochs=1,momentum=0.9)',
    ]);
  });
});

describe('train: axes', () => {
  it('plans one baseline per point of the train axes (× seeds), each crossed with every trial', () => {
    const trials = planTrials(
      parsed(
        file(
          '{ learningRate: [0.01, 0.05], optimizer: sgd, momentum: { range: { start: 0.5, stop: 0.9, step: 0.4 } } }',
          undefined,
          '[1, 2]',
        ),
      ),
    );
    // 2 seeds × 2 rates × 2 momenta baselines, × 2 retentions.
    expect(trials).toHaveLength(16);
    expect(new Set(trials.map((t) => t.id)).size).toBe(16);
    expect(new Set(trials.map((t) => t.baselineId)).size).toBe(8);
    expect(trials.slice(0, 4).map((t) => trialLabel(t.stages, t.trainAxes))).toEqual([
      'train(learningRate=0.01,momentum=0.5) → prune-weights(retention=0.5) → finetune(epochs=1)',
      'train(learningRate=0.01,momentum=0.5) → prune-weights(retention=0.2) → finetune(epochs=1)',
      'train(learningRate=0.01,momentum=0.9) → prune-weights(retention=0.5) → finetune(epochs=1)',
      'train(learningRate=0.01,momentum=0.9) → prune-weights(retention=0.2) → finetune(epochs=1)',
    ]);
    expect(trials[0]!.baseline.train).toEqual({
      learningRate: 0.01,
      optimizer: 'sgd',
      momentum: 0.5,
      epochs: 10,
      batchSize: 32,
      validationSplit: 0,
    });
    expect(baselineLabel(trials[0]!.trainAxes)).toBe('baseline(learningRate=0.01,momentum=0.5)');
    expect(baselineLabel(undefined)).toBe('baseline');
    expect(trials.map((t) => t.baseline.seed)).toEqual([...Array(8).fill(1), ...Array(8).fill(2)]);
  });

  it('a one-element list is an axis (it labels), a single value is not; both plan one baseline', () => {
    const listed = planTrials(parsed(file('{ optimizer: [sgd] }')));
    const single = planTrials(parsed(file('{ optimizer: sgd }')));
    expect(listed.map((t) => t.id)).toEqual(single.map((t) => t.id));
    expect(listed[0]!.trainAxes).toEqual({ optimizer: 'sgd' });
    expect(single[0]!.trainAxes).toBeUndefined();
  });

  it('refuses a train grid of more than 1000 baselines', () => {
    const got = errorsOf(
      file(
        '{ learningRate: { linspace: { start: 0.001, stop: 0.1, num: 100 } }, batchSize: { range: { start: 1, stop: 11, step: 1 } } }',
      ),
    );
    expect(got).toEqual([
      'x.yaml:4:8: train: train expands to 1100 baselines; at most 1000 (narrow its lists or ranges)',
    ]);
  });
});

describe('ids', () => {
  const ids = (train: string, stage?: string) =>
    planTrials(parsed(file(train, stage))).map((t) => [t.baselineId, t.id]);

  it('writing a default is the same baseline and trial as not writing it', () => {
    const plain = ids('{ epochs: 2 }');
    expect(ids('{ epochs: 2, optimizer: adam }')).toEqual(plain);
    expect(
      ids(
        '{ epochs: 2, optimizer: adam, beta1: 0.9, beta2: 0.999, epsilon: 1.0e-7, weightDecay: 0, schedule: constant, power: 0.75, warmupSteps: 0, minLearningRate: 0, gradClipNorm: 0, labelSmoothing: 0 }',
      ),
    ).toEqual(plain);
    expect(ids('{ epochs: 2, optimizer: [adam] }')).toEqual(plain);
  });

  it('every other value is another baseline; iterations too', () => {
    const all = [
      ids('{ epochs: 2 }'),
      ids('{ epochs: 2, optimizer: sgd }'),
      ids('{ epochs: 2, optimizer: adamw }'),
      ids('{ epochs: 2, weightDecay: 0.0001 }'),
      ids('{ epochs: 2, labelSmoothing: 0.1 }'),
      ids('{ iterations: 100 }'),
      ids('{ iterations: 200 }'),
    ].map((x) => x[0]![0]);
    expect(new Set(all).size).toBe(all.length);
  });

  it("a stage's optimizer field is part of the trial id, written at the table default or not (it may override train:)", () => {
    const plain = ids('{ }');
    const adam = ids('{ }', 'finetune: { epochs: 1, optimizer: adam }');
    expect(adam.map((x) => x[0])).toEqual(plain.map((x) => x[0]));
    expect(adam.map((x) => x[1])).not.toEqual(plain.map((x) => x[1]));
  });
});
