// Model specs alone — presets, layer table, checks — for reading experiment files without loading
// TensorFlow.js (`squash report file.yaml`, `squash run --dry-run`).
export { modelRegistry, resolveModelSpec } from './model_specs.js';
export {
  LAYER_FIELDS,
  LAYER_TYPES,
  ACTIVATIONS,
  modelSpecProblems,
  canonicalModelSpec,
  modelSpecErrors,
  assertModelSpec,
  planLayers,
  weightLayerNames,
  layerCosts,
  type ModelSpec,
  type LayerSpec,
  type LayerField,
  type LayerType,
  type PlannedLayer,
  type LayerCost,
  type ModelProblem,
} from './layer_spec.js';
