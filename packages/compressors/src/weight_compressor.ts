import type { ConfigError, WeightTensor } from '@squash/core';
import type { ApplyContext, ParamSpec, Params, WeightCompressor, WeightResult } from './compressor.js';
import { assertValid, validateParams, withDefaults } from './params.js';

/**
 * A weight compressor from its spec, an optional rule between parameters (checked only once every
 * parameter is valid on its own, so one mistake gives one error) and the transform. The rule and
 * the transform see every declared default filled in.
 */
export function createWeightCompressor(def: {
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  rule?: (params: Params, path: string) => ConfigError[];
  run: (tensors: WeightTensor[], params: Params, ctx: ApplyContext) => WeightResult;
}): WeightCompressor {
  const c: WeightCompressor = {
    kind: 'weights',
    name: def.name,
    description: def.description,
    params: def.params,
    validate(params, path) {
      const errors = validateParams(def.params, params, path);
      return errors.length || !def.rule ? errors : def.rule(withDefaults(def.params, params), path);
    },
    apply(tensors, params, ctx = {}) {
      assertValid(c, params);
      return def.run(tensors, withDefaults(def.params, params), ctx);
    },
  };
  return c;
}

/** A copy of `t` (name, shape and where its channels lie) holding `values`. */
export const withValues = (t: WeightTensor, values: Float32Array): WeightTensor => ({
  ...t,
  shape: [...t.shape],
  values,
});

/** How many weights the tensors hold together. */
export const totalWeights = (tensors: WeightTensor[]): number => tensors.reduce((n, t) => n + t.values.length, 0);

export function countDiffering(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}
