// Model specs alone — presets, layer table, checks, graph planning — for reading experiment files
// without loading TensorFlow.js (`squash report file.yaml`, `squash run --dry-run`).
export { modelRegistry, resolveModelSpec } from './model_specs.js';
export {
  LAYER_FIELDS,
  LAYER_TYPES,
  LAYER_CLASSES,
  ACTIVATIONS,
  INPUT,
  MERGE_LAYERS,
  modelSpecProblems,
  canonicalModelSpec,
  modelSpecErrors,
  assertModelSpec,
  formatPath,
  type ModelSpec,
  type ModelSource,
  type LayerSpec,
  type LayerField,
  type LayerType,
  type ModelProblem,
  type Activation,
  type Size2,
  type Pad2,
} from './layer_spec.js';
export {
  planLayers,
  weightLayerNames,
  layerCosts,
  activationPoints,
  WEIGHT_LAYERS,
  type PlannedLayer,
  type LayerCost,
  type WeightSlot,
} from './layer_graph.js';
export { readModelFile, MODEL_FILE_LAYER_CLASSES, type ModelFile, type ModelFileEntry } from './model_file/index.js';
export {
  OPTIMIZERS,
  LR_SCHEDULES,
  OPTIMIZER_FIELDS,
  OPTIMIZER_FIELD_NAMES,
  resolveOptimizerSettings,
  canonicalOptimizerSettings,
  optimizerSettingsProblems,
  parseMilestones,
  type OptimizerSettings,
  type OptimizerName,
  type LrSchedule,
} from './optim/settings.js';
export { learningRateAt } from './optim/schedule.js';
export { WEIGHT_INITS, DEFAULT_WEIGHT_INIT, type WeightInit } from './weight_init.js';
export { trainingPathOf, type TrainingPath } from './training_path.js';
