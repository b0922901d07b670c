import type { ParamValue } from '@squash/core';
import type { DatasetSpec } from '@squash/datasets';
import type { ModelSpec } from '@squash/trainer';

/** Training settings of the baseline model. */
export interface TrainSpec {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Fraction of the training split held out for validation metrics (never the test split). */
  validationSplit: number;
}

/** A param value as written: one value, or a list of values that becomes a grid axis. */
export type WrittenValue = ParamValue | ParamValue[];

/**
 * Per-layer settings of a compressor stage: the first entry whose `match` (a layer name, `*`
 * wildcards allowed) fits a layer wins; `skip: true` leaves that layer alone.
 */
export interface LayerOverride {
  match: string;
  skip?: boolean;
  [param: string]: ParamValue | undefined;
}

/** One pipeline stage as written: `{ prune-weights: { retention: [0.5, 0.2] } }`. */
export type WrittenStage = Record<string, Record<string, WrittenValue | LayerOverride[]>>;

export interface WrittenSweep {
  name: string;
  stages: WrittenStage[];
}

/** What a user writes in an experiment file (before defaults). */
export interface WrittenExperiment {
  name: string;
  description?: string;
  model: string | ModelSpec;
  models?: Record<string, ModelSpec>;
  dataset: DatasetSpec;
  train?: Partial<TrainSpec>;
  seeds?: number[];
  sweeps: WrittenSweep[];
}

/** The normalised experiment: defaults filled in. */
export interface Experiment {
  name: string;
  description: string;
  model: string | ModelSpec;
  /** Experiment-scoped named models (students, variants). */
  models: Record<string, ModelSpec>;
  dataset: DatasetSpec;
  train: TrainSpec;
  seeds: number[];
  sweeps: WrittenSweep[];
  /** Where it came from, for messages and for `report <file>`. */
  file?: string;
  /** The exact text, stored with the sweep. */
  text?: string;
}

export const TRAIN_DEFAULTS: TrainSpec = { epochs: 10, batchSize: 32, learningRate: 0.001, validationSplit: 0 };

/** One resolved compression stage of a trial. */
export interface Stage {
  compressor: string;
  params: Record<string, ParamValue>;
  layers?: LayerOverride[];
}

/** Everything that determines a baseline model: trained once per distinct value. */
export interface BaselineConfig {
  model: string | ModelSpec;
  dataset: DatasetSpec;
  train: TrainSpec;
  seed: number;
}

/** One point of the grid. `id` is the hash of its canonical config. */
export interface Trial {
  id: string;
  sweep: string;
  baseline: BaselineConfig;
  baselineId: string;
  stages: Stage[];
}
