/**
 * Pruning schedules separate *when* to prune from *what* to keep (as TF Model Optimization's
 * pruning schedules do): `at(step)` says whether step `step` is a pruning step and which
 * retention (fraction of weights kept) applies. A step is whatever the trainer counts —
 * optimizer steps, epochs, or prune → retrain rounds for `iterative`.
 */
import { ConfigError, SpecError } from '@squash/core';
import type { ParamSpec, Params } from '../compressor.js';
import { validateParams } from '../params.js';

export interface PruningSchedule {
  at(step: number): { active: boolean; retention: number };
  toJSON(): { kind: string; config: Record<string, number | number[]> };
}

export const RETENTION: ParamSpec = {
  type: 'number',
  exclusiveMinimum: 0,
  maximum: 1,
  required: true,
  description: 'fraction of weights kept',
};
export const STEP: ParamSpec = { type: 'integer', minimum: 0, description: 'first pruning step (default 0)' };
export const FREQUENCY: ParamSpec = {
  type: 'integer',
  minimum: 1,
  description: 'steps between pruning steps (default 1)',
};

/** Throws the problems (one ConfigError, or a SpecError holding several); no-op if none. */
export function throwAll(errors: ConfigError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new SpecError(errors);
}

/** `validateParams` for a schedule's config, located at `${path}.config`. */
export function validateConfig(
  spec: Record<string, ParamSpec>,
  config: Record<string, unknown>,
  path: string,
): ConfigError[] {
  return validateParams(spec, config as Params, path ? `${path}.config` : 'config');
}

/** A located error for a rule between parameters (e.g. initialRetention >= finalRetention). */
export function ruleError(path: string, param: string, message: string): ConfigError {
  return new ConfigError(message, { location: { path: path ? `${path}.config.${param}` : `config.${param}` } });
}

/** Guards `at` against programming errors: steps are integers >= 0. */
export function checkStep(kind: string, step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`${kind}: step must be an integer >= 0, got ${step}`);
}
