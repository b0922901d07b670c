import { type ConfigError, createRegistry } from '@squash/core';
import { type ParamSpec, type Params, validateParams } from '@squash/compressors';
import type { PipelineContext, PipelineState } from '../pipeline/state.js';
import type { Stage } from '../spec/types.js';
import { optimizerParams, validateTraining } from './params.js';

/**
 * One pipeline stage, declared once as plain data (as tfjs declares a KernelConfig): what an
 * experiment file may write for it, what it does to the model, and `apply`. The spec rules, the
 * grid, the schema and the state cache read these fields; none of them names a stage.
 *
 * A stage file must not load TensorFlow.js when it is imported (spec parsing and planning import
 * every stage): `apply` imports the heavy pipeline code lazily.
 */
export interface StageConfig {
  /** The key experiment files write (`- prune-weights: {…}`). */
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  /** Every problem at once, each located at `${path}.${param}`; empty when valid. */
  validate(params: Params, path: string): ConfigError[];
  /** Trains the model. */
  trains: boolean;
  /** Replaces the model (a new student, fewer units): it must come before every stage that transforms weights. */
  replacesModel: boolean;
  /** Changes the current model's weights. */
  transformsWeights: boolean;
  /** The params a `layers:` entry may set (first match wins); absent: the stage takes no `layers:`. */
  layerParams?: Record<string, ParamSpec>;
  /**
   * The param naming a model (built in, or from the experiment's `models:`) that becomes the model:
   * trial ids hash that model, and later stages' `layers:` refer to its layers.
   */
  modelParam?: string;
  /**
   * The weight compressor that stands for this stage without its training (a search's sensitivity
   * probes apply it to one layer at a time): a weight compressor's stage is its own; absent: not probed.
   */
  probeCompressor?: string;
  /** Applies the stage to the state, in place; `index` is the stage's position in the trial. */
  apply(state: PipelineState, ctx: PipelineContext, stage: Stage, index: number): Promise<void>;
}

export const stageRegistry = createRegistry<StageConfig>('stage');

/** A stage config validated by its param specs alone. */
export function defineStage(def: Omit<StageConfig, 'validate'>): StageConfig {
  return { ...def, validate: (params, path) => validateParams(def.params, params, path) };
}

/**
 * A stage that trains: its own params (epochs or iterations among them), then every optimizer
 * field (`optimizerParams`, inherited from `train:` where omitted).
 */
export function defineTrainingStage(def: Omit<StageConfig, 'validate' | 'trains'>): StageConfig {
  const params = { ...def.params, ...optimizerParams };
  return { ...def, params, trains: true, validate: (p, path) => validateTraining(params, p, path) };
}

/** Training seeds differ by the stage's position, so two training stages of a trial never share a shuffle. */
export const seedOffset = (index: number): number => 1000 * (index + 1);

/** A state after this stage is worth caching: the stage trains, or rebuilds the model. */
export const cachesState = (s: StageConfig): boolean => s.trains || s.replacesModel;
