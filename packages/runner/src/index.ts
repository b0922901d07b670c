export * from './spec/index.js';
export { runExperiment, CALIBRATION_SAMPLES, type RunEvent, type RunOptions, type RunSummary } from './execute.js';
export { stageRegistry, compressorStage, defineStage, type StageConfig } from './stages/registry.js';
export { checkFiles, type FileDirs } from './health.js';
