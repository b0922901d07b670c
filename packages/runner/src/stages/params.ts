import type { ParamSpec } from '@squash/compressors';

/** Param specs the training stages share. */

export const epochs: ParamSpec = { type: 'integer', minimum: 1, maximum: 1000, description: 'training epochs' };
export const learningRate: ParamSpec = {
  type: 'number',
  exclusiveMinimum: 0,
  description: 'Adam learning rate (default: the baseline rate / 10, as Han et al. retrain)',
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
