import { createRegistry, type ConfigError } from '@squash/core';
import { compressorRegistry, validateParams, type ParamSpec, type Params } from '@squash/compressors';

/**
 * Pipeline stages that need training or the whole model (the compressors package holds the pure
 * per-tensor transforms). Both kinds share one namespace in experiment files.
 */
export interface TrainingStage {
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  validate(params: Params, path: string): ConfigError[];
}

export const trainingStageRegistry = createRegistry<TrainingStage>('stage');

function stage(name: string, description: string, params: Record<string, ParamSpec>): void {
  trainingStageRegistry.register(name, {
    name,
    description,
    params,
    validate: (p, path) => validateParams(params, p, path),
  });
}

const epochs: ParamSpec = { type: 'integer', minimum: 1, maximum: 1000, description: 'training epochs' };
const learningRate: ParamSpec = {
  type: 'number',
  exclusiveMinimum: 0,
  description: 'Adam learning rate (default: the baseline rate / 10, as Han et al. retrain)',
};
const batchSize: ParamSpec = {
  type: 'integer',
  minimum: 1,
  description: 'batch size (default: the baseline batch size)',
};
const retention: ParamSpec = {
  type: 'number',
  exclusiveMinimum: 0,
  maximum: 1,
  required: true,
  description: 'fraction of weights kept at the end',
};
const scope: ParamSpec = {
  type: 'string',
  enum: ['layer', 'global'],
  description: 'layer: every layer keeps the fraction; global: one magnitude threshold over all layers (default layer)',
};

stage(
  'finetune',
  'Retrains the compressed model with its constraints held: pruning masks, quantization (straight-through for uniform schemes, centroid training for k-means), activation quantization.',
  {
    epochs: { ...epochs, required: true },
    learningRate,
    batchSize,
  },
);
stage(
  'prune-iterative',
  'Han et al. 2015: `rounds` rounds of magnitude pruning, each followed by retraining; round i keeps retention^(i/rounds).',
  {
    retention,
    rounds: { type: 'integer', minimum: 1, maximum: 100, required: true, description: 'prune → retrain rounds' },
    epochs: { ...epochs, required: true, description: 'retraining epochs per round' },
    learningRate,
    batchSize,
    scope,
  },
);
stage(
  'prune-gradual',
  'Zhu & Gupta 2017: retention falls from initialRetention to retention along a cubic schedule while training, pruning every `frequency` steps.',
  {
    retention,
    initialRetention: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'retention at the first pruning step (default 1)',
    },
    epochs: {
      ...epochs,
      required: true,
      description: 'training epochs; the schedule spans the first 3/4 of the steps, the rest recovers',
    },
    frequency: { type: 'integer', minimum: 1, description: 'steps between pruning updates (Δt, default 100)' },
    learningRate,
    batchSize,
    scope,
  },
);
stage(
  'distill',
  "Hinton et al. 2015: trains a new student model (a named model) from the experiment's trained baseline as teacher; later stages compress the student.",
  {
    student: {
      type: 'string',
      required: true,
      description: "name of the student model (built in, or from the experiment's `models:`)",
    },
    temperature: { type: 'number', exclusiveMinimum: 0, description: 'softmax temperature T (default 4)' },
    alpha: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'weight of the soft (teacher) loss; 1 − alpha weighs the labels (default 0.7)',
    },
    epochs: { ...epochs, required: true },
    learningRate: { ...learningRate, description: 'Adam learning rate (default: the baseline rate)' },
    batchSize,
  },
);
stage(
  'huffman',
  'Huffman-codes the quantized weights and the sparse index gaps in the artifact (Deep Compression §4).',
  {
    indexBits: {
      type: 'integer',
      minimum: 1,
      maximum: 16,
      description:
        'bits per relative sparse index (Deep Compression: 5 for fc, 8 for conv layers); omitted: per layer, the width (2–16) whose encoding is smallest',
    },
  },
);

/** Any stage name: a compressor or a training stage. */
export function stageNames(): string[] {
  return [...compressorRegistry.names(), ...trainingStageRegistry.names()];
}

export function stageParams(name: string): Record<string, ParamSpec> {
  return trainingStageRegistry.has(name) ? trainingStageRegistry.get(name).params : compressorRegistry.get(name).params;
}

export function validateStage(name: string, params: Params, path: string): ConfigError[] {
  return trainingStageRegistry.has(name)
    ? trainingStageRegistry.get(name).validate(params, path)
    : compressorRegistry.get(name).validate(params, path);
}

/**
 * The params a stage takes per layer in `layers:` (first match wins), or undefined when it takes no
 * `layers:`: every param of a compressor; the final retention of iterative pruning (the paper's
 * per-layer rates: Deep Compression keeps 8 % / 9 % / 26 % of LeNet-300-100's layers).
 */
export function layerOverrideParams(name: string): Record<string, ParamSpec> | undefined {
  if (compressorRegistry.has(name)) return compressorRegistry.get(name).params;
  if (name === 'prune-iterative') return { retention: { ...retention, required: false } };
  return undefined;
}
