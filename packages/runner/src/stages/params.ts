import { ConfigError } from '@squash/core';
import { describeParamSpec, type ParamSpec, type Params, validateParams } from '@squash/compressors';
import { OPTIMIZER_FIELD_NAMES, OPTIMIZER_FIELDS } from '@squash/trainer/specs';

/** Param specs the training stages share. */

export const epochs: ParamSpec = {
  type: 'integer',
  minimum: 1,
  maximum: 1000,
  description: 'training epochs (required, unless iterations is given)',
};
export const iterations: ParamSpec = {
  type: 'integer',
  minimum: 1,
  description: "train exactly this many optimizer steps instead of epochs (Caffe's max_iter); not with epochs",
};
export const learningRate: ParamSpec = {
  type: 'number',
  exclusiveMinimum: 0,
  description:
    'base learning rate of the optimizer, varied per step by schedule (default: the baseline rate / 10, as Han et al. retrain)',
};
export const batchSize: ParamSpec = {
  type: 'integer',
  minimum: 1,
  description: 'batch size (default: the baseline batch size)',
};
export const retention: ParamSpec = {
  type: 'number',
  exclusiveMinimum: 0,
  maximum: 1,
  required: true,
  description: 'fraction of weights kept at the end',
};
export const scope: ParamSpec = {
  type: 'string',
  enum: ['layer', 'global'],
  default: 'layer',
  description: 'layer: every layer keeps the fraction; global: one magnitude threshold over all layers (default layer)',
};

/**
 * Every optimizer field of the trainer's table as a training stage's param, without its default:
 * an omitted one is the `train:` block's value, else the table's default (`stageOptimizerSettings`).
 * So ids hash what a stage writes, and a default written on a stage can override `train:`.
 */
export const optimizerParams: Record<string, ParamSpec> = Object.fromEntries(
  OPTIMIZER_FIELD_NAMES.map((name) => {
    const { default: d, ...spec } = OPTIMIZER_FIELDS[name];
    const inherited = d === undefined ? "train's" : `train's, else ${d}`;
    return [name, { ...spec, description: `${spec.description} (default: ${inherited})` }];
  }),
);

const at = (path: string, name: string): string => (path ? `${path}.${name}` : name);

/** A training stage's checks: its params' own, then epochs or iterations (one of them, not both). */
export function validateTraining(spec: Record<string, ParamSpec>, params: Params, path: string): ConfigError[] {
  const errors = validateParams(spec, params, path);
  if (params.epochs === undefined && params.iterations === undefined) {
    errors.push(
      new ConfigError(`missing required parameter 'epochs' (${describeParamSpec(spec.epochs!)})`, {
        location: { path: at(path, 'epochs') },
        hint: 'or iterations: optimizer steps',
      }),
    );
  } else if (params.epochs !== undefined && params.iterations !== undefined) {
    errors.push(
      new ConfigError('give epochs or iterations, not both', {
        location: { path: at(path, 'iterations') },
        hint: 'iterations trains exactly that many optimizer steps, whatever the epochs',
      }),
    );
  }
  return errors;
}
