import { modelRegistry, weightLayerNames, type ModelSpec } from '@squash/trainer/specs';

/** A model by name (from the experiment's `models:` or built in), or undefined when unknown. */
export function findModel(name: string, models: Record<string, ModelSpec> | undefined): ModelSpec | undefined {
  return models?.[name] ?? (modelRegistry.has(name) ? modelRegistry.get(name) : undefined);
}

/**
 * The names of a model's weight layers, in order, as the trainer names them (`conv_1`, …,
 * `dense_1`, …); undefined when the model is unknown (another check reports that).
 */
export function modelLayerNames(model: string | ModelSpec, models?: Record<string, ModelSpec>): string[] | undefined {
  const spec = typeof model === 'string' ? findModel(model, models) : model;
  if (!spec) return undefined;
  return weightLayerNames(spec);
}
