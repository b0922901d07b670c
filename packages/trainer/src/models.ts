import * as tf from '@tensorflow/tfjs';
import { buildLayersModel } from '@squash/sqz';
import type { ModelSpec } from './layer_spec.js';
import { planLayers } from './layer_graph.js';
import { DEFAULT_WEIGHT_INIT, type WeightInit } from './weight_init.js';

export type { ModelSpec, LayerSpec } from './layer_spec.js';
export { modelRegistry, resolveModelSpec } from './model_specs.js';

/** A 31-bit seed from a layer name, for names that are not `<kind>_<n>`. */
function nameSeed(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 1) % 1000;
}

/** Seeds per kernel: dense layers keep the numbers they had before convolutions existed. */
const initSeed = (seed: number, name: string, role = 'kernel') => {
  const [kind, n] = name.split('_') as [string, string | undefined];
  const numbered = /^[0-9]+$/.test(n ?? '') && name === `${kind}_${n}`;
  const base = numbered
    ? (kind === 'conv' ? 500 : kind === 'dense' ? 0 : 250 + nameSeed(kind)) + Number(n)
    : nameSeed(name);
  return seed * 1000 + base + (role === 'pointwise_kernel' ? 7919 : 0);
};

const INITIALIZERS = {
  'glorot-uniform': tf.initializers.glorotUniform,
  'lecun-uniform': tf.initializers.leCunUniform,
  'he-uniform': tf.initializers.heUniform,
} satisfies Record<WeightInit, unknown>;

/**
 * Builds a tfjs model from a spec: sequential when every layer reads the one before, a
 * functional `tf.model` graph otherwise. Layers get fixed names (see `planLayers`) so weight
 * names are the same in every process, and seeded kernels (Glorot-uniform unless `init` says
 * otherwise) so the same seed gives the same model.
 */
export function buildModel(
  spec: ModelSpec,
  inputShape: number[],
  seed: number,
  init: WeightInit = DEFAULT_WEIGHT_INIT,
): tf.LayersModel {
  planLayers(spec, inputShape); // sizes that do not fit: ConfigErrors located at the layer
  return buildLayersModel(spec, inputShape, {
    kernelInitializer: (name, role) => INITIALIZERS[init]({ seed: initSeed(seed, name, role) }),
  });
}
