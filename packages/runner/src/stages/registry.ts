import './register_all.js';
import type { ConfigError } from '@squash/core';
import { type ParamSpec, type Params, withDefaults, withoutDefaults } from '@squash/compressors';
import { canonicalModelSpec, type ModelSpec } from '@squash/trainer/specs';
import type { Stage } from '../spec/types.js';
import { type StageConfig, stageRegistry } from './stage.js';

export { compressorStage } from './compressor_stage.js';
export { cachesState, defineStage, seedOffset, type StageConfig, stageRegistry } from './stage.js';

/** Every stage name experiment files may use, in registration order. */
export function stageNames(): string[] {
  return stageRegistry.names();
}

/** The stage of that name; an unknown name throws a ConfigError listing the known ones. */
export function getStage(name: string): StageConfig {
  return stageRegistry.get(name);
}

/** The stage's own checks of one param set. */
export function validateStage(name: string, params: Params, path: string): ConfigError[] {
  return stageRegistry.get(name).validate(params, path);
}

/** The params a stage takes per layer in `layers:`, or undefined when it takes no `layers:`. */
export function layerOverrideParams(name: string): Record<string, ParamSpec> | undefined {
  return stageRegistry.get(name).layerParams;
}

/** The model param of a stage (`modelParam`), or undefined for a stage that names no model or is unknown. */
export function modelParamOf(name: string): string | undefined {
  return stageRegistry.has(name) ? stageRegistry.get(name).modelParam : undefined;
}

/**
 * The experiment-scoped models (`models:`) the stages name, by name: part of what they compute,
 * so trial ids and state-cache keys hash them (built-in models are covered by the Squash version).
 */
export function modelsNamedBy<M>(stages: Stage[], models: Record<string, M>): Record<string, M> {
  const out: Record<string, M> = {};
  for (const s of stages) {
    const param = modelParamOf(s.compressor);
    const name = param === undefined ? undefined : s.params[param];
    if (typeof name === 'string' && models[name]) out[name] = models[name];
  }
  return out;
}

/** The stage as it runs: every param its config declares a default for filled in where omitted. */
export function withStageDefaults(stage: Stage): Stage {
  if (!stageRegistry.has(stage.compressor)) return stage;
  return { ...stage, params: withDefaults(stageRegistry.get(stage.compressor).params, stage.params) };
}

/**
 * The stage as ids hash it: params written at their declared default left out, so writing a
 * default or omitting it is one trial. Dropping (not filling) keeps every id of a config that
 * writes no default as it was. Per-layer overrides stay as written: there a default-valued entry
 * overrides the stage's own value.
 */
export function canonicalStage(stage: Stage): Stage {
  if (!stageRegistry.has(stage.compressor)) return stage;
  return { ...stage, params: withoutDefaults(stageRegistry.get(stage.compressor).params, stage.params) };
}

/** Models as ids hash them: layer fields written at their declared default left out. */
export function canonicalModels(models: Record<string, ModelSpec>): Record<string, ModelSpec> {
  return Object.fromEntries(Object.entries(models).map(([name, m]) => [name, canonicalModelSpec(m)]));
}
