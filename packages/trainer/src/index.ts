export { buildModel, resolveModelSpec, modelRegistry, type ModelSpec, type LayerSpec } from './models.js';
export {
  LAYER_FIELDS,
  LAYER_TYPES,
  ACTIVATIONS,
  modelSpecProblems,
  modelSpecErrors,
  assertModelSpec,
  planLayers,
  weightLayerNames,
  layerCosts,
  type LayerField,
  type LayerType,
  type ModelProblem,
  type PlannedLayer,
  type LayerCost,
  type Size2,
  type Activation,
} from './layer_spec.js';
export { getWeights, setWeights, isKernel } from './weights.js';
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
  valuesHook,
  variablesByName,
  type ActivationHook,
  type ForwardOptions,
  type KernelFn,
} from './forward.js';
export { steKernel, steActivation, sharedWeights, type SharedWeights } from './ste.js';
export { removeUnits } from './structured.js';
export { modelFromArtifact, loadArtifactModel, activationHookFor, type ArtifactModelInfo } from './artifact_model.js';
