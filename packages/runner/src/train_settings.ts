import type { ParamValue } from '@squash/core';
import {
  canonicalOptimizerSettings,
  DEFAULT_WEIGHT_INIT,
  OPTIMIZER_FIELD_NAMES,
  OPTIMIZER_FIELDS,
  type OptimizerName,
  type OptimizerSettings,
} from '@squash/trainer/specs';
import type { TrainSpec } from './spec/types.js';

/**
 * How the baseline and every training stage are trained, from `train:` and a stage's params. Pure
 * (no TensorFlow.js): spec rules, ids, recorded params and the pipeline all read it.
 */

/** The optimizer fields of a `train:` point or a stage's params, as written. */
export function optimizerFieldsOf(o: object): Partial<OptimizerSettings> {
  const out: Record<string, unknown> = {};
  const from = o as Record<string, unknown>;
  for (const name of OPTIMIZER_FIELD_NAMES) if (from[name] !== undefined) out[name] = from[name];
  return out as Partial<OptimizerSettings>;
}

/** Fields that mean something to some optimizers only. */
const ONLY_FOR: Partial<Record<keyof OptimizerSettings, readonly OptimizerName[]>> = {
  momentum: ['sgd'],
  nesterov: ['sgd'],
  beta1: ['adam', 'adamw'],
  beta2: ['adam', 'adamw'],
  epsilon: ['adam', 'adamw'],
};

/**
 * The optimizer settings a training stage runs with: its own fields over the `train:` block's. A
 * field of one optimizer (sgd's momentum, adam's betas) is inherited only while the stage trains
 * with that optimizer, so `optimizer: adam` on a stage after an sgd baseline with momentum is Adam,
 * not an error. Fields neither sets are the table defaults (the trainer fills them in).
 */
export function stageOptimizerSettings(train: TrainSpec, params: object): Partial<OptimizerSettings> {
  const own = optimizerFieldsOf(params);
  const inherited = optimizerFieldsOf(train);
  const optimizer = (own.optimizer ?? inherited.optimizer ?? OPTIMIZER_FIELDS.optimizer.default) as OptimizerName;
  for (const [field, owners] of Object.entries(ONLY_FOR))
    if (!owners!.includes(optimizer)) delete inherited[field as keyof OptimizerSettings];
  return { ...inherited, ...own };
}

/**
 * `train:` as ids hash it: the four fields every baseline had, `iterations` and `init` only when written
 * (init: off its default), and
 * the optimizer fields not at their default, so a file that writes none (or writes a default) keeps
 * the ids it always had.
 */
export function canonicalTrain(train: TrainSpec): Record<string, unknown> {
  const { epochs, batchSize, learningRate, validationSplit, iterations, init } = train;
  return {
    epochs,
    batchSize,
    learningRate,
    validationSplit,
    ...(iterations !== undefined ? { iterations } : {}),
    ...(init !== undefined && init !== DEFAULT_WEIGHT_INIT ? { init } : {}),
    ...canonicalOptimizerSettings(optimizerFieldsOf(train)),
  };
}

/** `weightDecay` → `weight_decay`: how run params name things. */
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The baseline's training as run params (`epochs`, `batch_size`, `learning_rate`, as always, then
 * `iterations` and each optimizer field not at its default: `optimizer`, `weight_decay`, …), so
 * `params.optimizer = "sgd"` finds the runs trained so. With iterations, `epochs` is left out: it
 * did not decide how long the model trained.
 */
export function trainParams(train: TrainSpec): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  if (train.iterations === undefined) out.epochs = train.epochs;
  out.batch_size = train.batchSize;
  out.learning_rate = train.learningRate;
  if (train.iterations !== undefined) out.iterations = train.iterations;
  if (train.init !== undefined && train.init !== DEFAULT_WEIGHT_INIT) out.init = train.init;
  for (const [k, v] of Object.entries(canonicalOptimizerSettings(optimizerFieldsOf(train))))
    out[snake(k)] = v as ParamValue;
  return out;
}

/** Training samples once the validation split is held out (the trainer's `splitValidation`). */
export const trainingSamples = (count: number, validationSplit: number): number =>
  count - Math.round(count * validationSplit);

/**
 * The epochs a training of `iterations` optimizer steps spans (the last one partial), for progress
 * and as the trainer's epoch count; `epochs` itself without iterations. `samples`: the training
 * samples after the validation split.
 */
export function epochsSpanned(t: { epochs?: number; iterations?: number; batchSize: number }, samples: number): number {
  if (t.iterations === undefined) return t.epochs!;
  return Math.max(1, Math.ceil(t.iterations / Math.max(1, Math.ceil(samples / t.batchSize))));
}
