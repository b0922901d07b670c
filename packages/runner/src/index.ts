export * from './spec/index.js';
export {
  runExperiment,
  loadExperimentData,
  CALIBRATION_SAMPLES,
  type RunEvent,
  type RunOptions,
  type RunSummary,
} from './execute.js';
export { InterruptedError, StopRequest, type Stop } from './run/stop.js';
export { stageRegistry, compressorStage, defineStage, type StageConfig } from './stages/registry.js';
export type { TrainingPlace } from './run/events.js';
/** For `squash doctor`: whether a cached baseline holds what was saved. */
export { checkCachedBaseline } from './baseline.js';
export { checkFiles, type FileDirs } from './health.js';
/** For queue workers and the recorder (`@squash/queue`): one unit of a plan run without a store, and recorded once. */
export {
  experimentData,
  experimentFromText,
  findUnit,
  queuedBaseline,
  recordUnit,
  runBaselineUnit,
  runTrialUnit,
  trialStateKeys,
  type QueuedUnit,
  type RecordTarget,
  type UnitContext,
  type UnitResult,
} from './run/queued.js';
export { workerIdentity } from './run/context.js';
export { nativeThreadsPerWorker } from './run/workers.js';
export type { Baseline } from './baseline.js';
/** Searches (`search:`): candidates proposed in batches, each an ordinary trial. */
export { runSearches, type SearchRunOptions, type SearchesResult } from './search/run_search.js';
