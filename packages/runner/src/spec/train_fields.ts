import type { ParamSpec } from '@squash/compressors';
import { DEFAULT_WEIGHT_INIT, OPTIMIZER_FIELDS, WEIGHT_INITS } from '@squash/trainer/specs';
import { TRAIN_DEFAULTS, type TrainSpec } from './types.js';

/** A train field's declaration: a ParamSpec, plus the exclusive upper bound ParamSpec lacks. */
export type TrainFieldSpec = ParamSpec & { exclusiveMaximum?: number };

/**
 * Every field of `train:`, declared once: the baseline's own (epochs or iterations, batch size,
 * rate, validation split) and the trainer's optimizer table (`OPTIMIZER_FIELDS`). The schema,
 * the grid's value checks and SWEEPS.md read this; each field is also a grid axis.
 */
export const TRAIN_FIELDS: Record<keyof TrainSpec, TrainFieldSpec> = {
  epochs: {
    type: 'integer',
    minimum: 1,
    default: TRAIN_DEFAULTS.epochs,
    description:
      'passes over the training split (0 for a model file: it is the baseline as it is); not with iterations',
  },
  iterations: {
    type: 'integer',
    minimum: 1,
    description: "train exactly this many optimizer steps instead of epochs (Caffe's max_iter); not with epochs",
  },
  batchSize: {
    type: 'integer',
    minimum: 1,
    default: TRAIN_DEFAULTS.batchSize,
    description: 'samples per optimizer step',
  },
  learningRate: {
    type: 'number',
    exclusiveMinimum: 0,
    default: TRAIN_DEFAULTS.learningRate,
    description: 'the base learning rate; schedule varies it per step',
  },
  validationSplit: {
    type: 'number',
    minimum: 0,
    exclusiveMaximum: 1,
    default: TRAIN_DEFAULTS.validationSplit,
    description: 'fraction of the training split held out for validation metrics (never the test split)',
  },
  init: {
    type: 'string',
    enum: [...WEIGHT_INITS],
    default: DEFAULT_WEIGHT_INIT,
    description:
      "fresh kernels: glorot-uniform (Keras' default), lecun-uniform (Caffe's xavier filler) or he-uniform; biases start at 0",
  },
  ...OPTIMIZER_FIELDS,
};

export const TRAIN_FIELD_NAMES = Object.keys(TRAIN_FIELDS) as Array<keyof TrainSpec>;
