export { buildModel } from './models.js';
export * from './specs.js';
export { getWeights, setWeights, isKernel, roleOf, KERNEL_ROLES } from './weights.js';
export { foldBatchNorm, type FoldResult } from './fold.js';
export { saveModel, loadModel, modelExists, checkSavedModel } from './io.js';
export {
  train,
  fineTune,
  splitValidation,
  sparseCategoricalCrossEntropy,
  distillationLoss,
  type TrainOptions,
  type FineTuneOptions,
  type EpochLog,
} from './train.js';
export { evaluate, collectActivations, type EvaluateOptions, type Evaluation } from './evaluate.js';
export {
  forward,
  updateMovingStats,
  valuesHook,
  variablesByName,
  type ActivationHook,
  type BatchMoments,
  type ForwardOptions,
  type KernelFn,
  type TrainingPass,
} from './forward.js';
export { steKernel, steActivation, sharedWeights, type SharedWeights } from './ste.js';
export { removeUnits, unitLayers, describeTie, type UnitTie } from './structured.js';
export { modelFromArtifact, loadArtifactModel, activationHookFor, type ArtifactModelInfo } from './artifact_model.js';
export {
  tfjsModelFiles,
  loadTfjsFiles,
  predictAccuracy,
  TFJS_FORMATS,
  SHARD_BYTES,
  MODEL_JSON,
  type TfjsFormat,
  type TfjsFile,
  type TfjsTensor,
  type TfjsModelFiles,
} from './tfjs_export.js';
