export { parseSpec, loadExperimentFile, type ParseResult } from './spec/parse.js';
export { buildExperimentSchema } from './spec/schema.js';
export { normalizeSpec } from './spec/normalize.js';
export { formatPath, type PathSegment } from './spec/locate.js';
export type { Experiment, WrittenExperiment, TrainSpec, Stage, Trial, BaselineConfig, Reference } from './spec/types.js';
export { TRAIN_DEFAULTS } from './spec/types.js';
export { expandGrid, planTrials, trialLabel, trialId, baselineId, type Axis } from './plan.js';
export { runExperiment, CALIBRATION_SAMPLES, type RunEvent, type RunOptions, type RunSummary } from './execute.js';
export * from './store/index.js';
