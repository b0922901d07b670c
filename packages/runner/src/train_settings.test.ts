import { describe, expect, it } from 'vitest';
import {
  canonicalTrain,
  epochsSpanned,
  stageOptimizerSettings,
  trainParams,
  trainingSamples,
} from './train_settings.js';
import { TRAIN_DEFAULTS, type TrainSpec } from './spec/types.js';

const train = (over: Partial<TrainSpec> = {}): TrainSpec => ({ ...TRAIN_DEFAULTS, ...over });

describe('stageOptimizerSettings: a training stage inherits train:, overriding what it writes', () => {
  const sgd = train({
    optimizer: 'sgd',
    momentum: 0.9,
    nesterov: true,
    weightDecay: 5e-4,
    schedule: 'inv',
    gamma: 1e-4,
  });
  it.each([
    [
      'nothing written: the baseline settings',
      sgd,
      {},
      { optimizer: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4, schedule: 'inv', gamma: 1e-4 },
    ],
    [
      'the stage wins field by field',
      sgd,
      { weightDecay: 0, schedule: 'constant', epochs: 2, learningRate: 0.1 },
      { optimizer: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0, schedule: 'constant', gamma: 1e-4 },
    ],
    [
      "another optimizer drops sgd's own fields",
      sgd,
      { optimizer: 'adam' },
      { optimizer: 'adam', weightDecay: 5e-4, schedule: 'inv', gamma: 1e-4 },
    ],
    [
      "sgd after adam drops adam's betas",
      train({ beta1: 0.8, beta2: 0.99, epsilon: 1e-8, labelSmoothing: 0.1 }),
      { optimizer: 'sgd', momentum: 0.5 },
      { optimizer: 'sgd', momentum: 0.5, labelSmoothing: 0.1 },
    ],
    [
      'adamw keeps the betas of an adam baseline',
      train({ beta2: 0.98 }),
      { optimizer: 'adamw' },
      { optimizer: 'adamw', beta2: 0.98 },
    ],
    ["a stage's own sgd field stays, to be reported", train(), { momentum: 0.9 }, { momentum: 0.9 }],
    ['no optimizer fields anywhere: none (the trainer defaults)', train(), { epochs: 3 }, {}],
  ])('%s', (_name, t, params, want) => {
    expect(stageOptimizerSettings(t, params)).toEqual(want);
  });
});

describe('canonicalTrain: what ids hash', () => {
  it('is the four fields every baseline had when nothing else is written, or all of it at its default', () => {
    const four = { epochs: 10, batchSize: 32, learningRate: 0.001, validationSplit: 0 };
    expect(canonicalTrain(train())).toEqual(four);
    expect(canonicalTrain(train({ optimizer: 'adam', momentum: 0, schedule: 'constant', labelSmoothing: 0 }))).toEqual(
      four,
    );
  });
  it('keeps iterations when written, and optimizer fields off their default', () => {
    expect(canonicalTrain(train({ iterations: 100, optimizer: 'sgd', momentum: 0.9, power: 0.75 }))).toEqual({
      epochs: 10,
      batchSize: 32,
      learningRate: 0.001,
      validationSplit: 0,
      iterations: 100,
      optimizer: 'sgd',
      momentum: 0.9,
    });
  });
  it('keeps the kernel initialisation only off its default (glorot-uniform)', () => {
    const four = { epochs: 10, batchSize: 32, learningRate: 0.001, validationSplit: 0 };
    expect(canonicalTrain(train({ init: 'glorot-uniform' }))).toEqual(four);
    expect(canonicalTrain(train({ init: 'lecun-uniform' }))).toEqual({ ...four, init: 'lecun-uniform' });
    expect(trainParams(train({ init: 'lecun-uniform' }))).toMatchObject({ init: 'lecun-uniform' });
    expect(trainParams(train({ init: 'glorot-uniform' }))).not.toHaveProperty('init');
  });
});

describe('trainParams: how runs record their baseline training', () => {
  it('records epochs, batch size and rate as always, nothing more at the defaults', () => {
    expect(trainParams(train({ optimizer: 'adam' }))).toEqual({ epochs: 10, batch_size: 32, learning_rate: 0.001 });
  });
  it('records iterations instead of epochs, and every optimizer field off its default in snake case', () => {
    const caffe = train({
      iterations: 10000,
      batchSize: 64,
      learningRate: 0.01,
      optimizer: 'sgd',
      momentum: 0.9,
      weightDecay: 0.0005,
      schedule: 'inv',
      gamma: 0.0001,
      power: 0.75,
      nesterov: true,
      warmupSteps: 10,
      minLearningRate: 1e-5,
      gradClipNorm: 5,
      labelSmoothing: 0.1,
      stepSize: 3,
      milestones: '1,2',
    });
    expect(trainParams(caffe)).toEqual({
      batch_size: 64,
      learning_rate: 0.01,
      iterations: 10000,
      optimizer: 'sgd',
      momentum: 0.9,
      nesterov: true,
      weight_decay: 0.0005,
      schedule: 'inv',
      gamma: 0.0001,
      step_size: 3,
      milestones: '1,2',
      warmup_steps: 10,
      min_learning_rate: 1e-5,
      grad_clip_norm: 5,
      label_smoothing: 0.1,
    });
  });
});

describe('epochsSpanned: the epoch count of a training given in optimizer steps', () => {
  it('is ceil(iterations / steps per epoch), the last one partial; epochs without iterations', () => {
    expect(epochsSpanned({ epochs: 4, batchSize: 32 }, 600)).toBe(4);
    expect(epochsSpanned({ iterations: 19, batchSize: 32 }, 600)).toBe(1); // 19 steps of 32 = 600 samples
    expect(epochsSpanned({ iterations: 20, batchSize: 32 }, 600)).toBe(2);
    expect(epochsSpanned({ epochs: 10, iterations: 100, batchSize: 64 }, 60000)).toBe(1);
    expect(epochsSpanned({ iterations: 10000, batchSize: 64 }, 60000)).toBe(11);
  });
  it('counts the training samples left after the validation split, as the trainer does', () => {
    expect(trainingSamples(600, 0)).toBe(600);
    expect(trainingSamples(600, 0.25)).toBe(450);
    expect(trainingSamples(5, 0.1)).toBe(4); // round(0.5) = 1 held out
  });
});
