import type { ParamValue, Reference } from '@squash/contract';
export type { Reference };
import type { DatasetSpec } from '@squash/datasets';
import type { ModelSpec, OptimizerSettings, WeightInit } from '@squash/trainer/specs';
import type { WrittenModelFile } from './model_files.js';
import type { Candidate, SearchSpec, WrittenSearch } from '../search/types.js';

/**
 * Training settings of the baseline model: one point of `train:`. The optimizer fields
 * (`OPTIMIZER_FIELDS`) are present only as written; an absent one is its table default.
 */
export interface TrainSpec extends Partial<OptimizerSettings> {
  epochs: number;
  /** Train exactly this many optimizer steps instead of `epochs` (Caffe's max_iter); present only when written. */
  iterations?: number;
  batchSize: number;
  learningRate: number;
  /** Fraction of the training split held out for validation metrics (never the test split). */
  validationSplit: number;
  /** How fresh kernels are drawn (baseline, distill students); present only when written. */
  init?: WeightInit;
}

/** `train:` as written: each field one value, a list or a range/linspace/logspace (a grid axis of baselines). */
export type WrittenTrain = { [K in keyof TrainSpec]?: WrittenValue };

/** `{ range: { start, stop, step } }`: inclusive, values rounded to the start's/step's decimals. */
export interface RangeExpr {
  range: { start: number; stop: number; step: number };
}
/** `{ linspace: { start, stop, num } }`: num evenly spaced values, both ends included. */
export interface LinspaceExpr {
  linspace: { start: number; stop: number; num: number };
}
/** `{ logspace: { start, stop, num, base? } }`: base^start … base^stop, num values (base 10). */
export interface LogspaceExpr {
  logspace: { start: number; stop: number; num: number; base?: number };
}
/** A generated axis (see SWEEPS.md). */
export type ValueExpr = RangeExpr | LinspaceExpr | LogspaceExpr;

/** A param value as written: one value, a list of values, or an expression generating them (a grid axis). */
export type WrittenValue = ParamValue | ParamValue[] | ValueExpr;

/**
 * Per-layer settings of a compressor stage: the first entry whose `match` (a layer name, `*`
 * wildcards allowed) fits a layer wins; `skip: true` leaves that layer alone.
 */
export interface LayerOverride {
  match: string;
  skip?: boolean;
  [param: string]: ParamValue | undefined;
}

/** `layers:` of a compressor stage: per-layer overrides, or `each` (a layer axis: one layer at a time). */
export type WrittenLayers = LayerOverride[] | 'each';

/** One pipeline stage as written: `{ prune-weights: { retention: [0.5, 0.2] } }`. */
export type WrittenStage = Record<string, Record<string, WrittenValue | WrittenLayers>>;

/** Axis references are `stage.param` (or `index.param`, 0-based, when a stage name repeats). */
export type AxisRef = string;

export interface WrittenSweep {
  name: string;
  stages: WrittenStage[];
  /** Groups of axes that advance together (element-wise) instead of being crossed. */
  zip?: AxisRef[][];
  /** Points to drop: each entry drops the points matching all of its axis values (a list = any of). */
  exclude?: Array<Record<AxisRef, ParamValue | ParamValue[]>>;
}

/** Shared single-value stage params, merged under every sweep's stage of that name (the sweep wins). */
export type StageDefaults = Record<string, Record<string, ParamValue>>;

/** What a user writes in an experiment file (before defaults). */
export interface WrittenExperiment {
  name: string;
  description?: string;
  tags?: Record<string, string | number | boolean>;
  reference?: Reference;
  /** A named model, an inline spec, or a TensorFlow.js Layers file (read into a spec by `resolveModelFiles`). */
  model: string | ModelSpec | WrittenModelFile;
  models?: Record<string, ModelSpec | WrittenModelFile>;
  dataset: DatasetSpec;
  train?: WrittenTrain;
  seeds?: number[];
  /** Shorthand for `seeds: [1, …, repeats]`. */
  repeats?: number;
  defaults?: StageDefaults;
  /** Absent only when `search:` is given (the parser then sets it to []). */
  sweeps: WrittenSweep[];
  /** One search or a list of them: proposals become trials under the search's name. */
  search?: WrittenSearch | WrittenSearch[];
  /** A search's proposals so far, written by the runner into the text it records and queues. */
  candidates?: Candidate[];
}

/** The written experiment with its model files read: every model is a name or a spec. */
export type ReadExperiment = Omit<WrittenExperiment, 'model' | 'models'> & {
  model: string | ModelSpec;
  models?: Record<string, ModelSpec>;
};

/** The normalised experiment: defaults filled in. */
export interface Experiment {
  name: string;
  description: string;
  /** Recorded on every run; not part of trial ids. */
  tags?: Record<string, string>;
  /** Published numbers to report beside the measured ones. */
  reference?: Reference;
  model: string | ModelSpec;
  /** Experiment-scoped named models (students, variants). */
  models: Record<string, ModelSpec>;
  dataset: DatasetSpec;
  /**
   * `train:` with TRAIN_DEFAULTS filled in; a field may still be a list or expression: one baseline
   * per point of their product (`trainPoints`), each crossed with every sweep's trials.
   */
  train: WrittenTrain;
  seeds: number[];
  /** Stage param defaults shared by all sweeps (absent = none). */
  defaults?: StageDefaults;
  /** The written sweeps, then one sweep per search candidate (named after its search). */
  sweeps: WrittenSweep[];
  /** The searches, in the order they run (empty: none). */
  searches: SearchSpec[];
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
  /**
   * Set by a layer axis (`layers: each`): the one layer this stage compresses; `layers` then holds
   * `[{ match: layer }, { match: '*', skip: true }]`. A label only: not part of the trial id.
   */
  layer?: string;
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
  /**
   * The values of the `train:` axes (fields written as a list or expression) at this trial's
   * baseline, by field name; absent when `train:` has no axis. A label: the baseline says it all.
   */
  trainAxes?: Record<string, ParamValue>;
}
