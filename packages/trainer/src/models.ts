import * as tf from '@tensorflow/tfjs';
import { INPUT, type LayerSpec, type ModelSpec } from './layer_spec.js';
import { planLayers, type PlannedLayer } from './layer_graph.js';
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

/** The tfjs layer for one planned layer (kernels seeded from `init`, biases zero). */
function tfLayer(
  p: PlannedLayer,
  seed: number,
  init: WeightInit,
  first: { inputShape?: number[] } = {},
): tf.layers.Layer {
  const kernelInit = (seed: number, name: string, role?: string) =>
    INITIALIZERS[init]({ seed: initSeed(seed, name, role) });
  const name = p.name;
  const args = <T>(a: T): T => ({ ...a, ...first });
  const l = p.spec as LayerSpec;
  const conv = (c: Extract<LayerSpec, { kernelSize: unknown }>) => ({
    name,
    kernelSize: c.kernelSize,
    strides: c.strides ?? 1,
    padding: c.padding ?? 'valid',
    activation: c.activation ?? 'linear',
    useBias: c.useBias ?? true,
    biasInitializer: 'zeros' as const,
    dataFormat: 'channelsLast' as const,
  });
  const pool = (c: Extract<LayerSpec, { poolSize: unknown }>) => ({
    name,
    poolSize: c.poolSize,
    strides: c.strides ?? c.poolSize,
    padding: c.padding ?? 'valid',
    dataFormat: 'channelsLast' as const,
  });
  switch (l.type) {
    case 'reshape':
      return tf.layers.reshape(args({ name, targetShape: p.outShape }));
    case 'flatten':
      return tf.layers.flatten(args({ name }));
    case 'dense':
      return tf.layers.dense(
        args({
          name,
          units: l.units,
          activation: l.activation ?? 'linear',
          useBias: l.useBias ?? true,
          kernelInitializer: kernelInit(seed, name),
          biasInitializer: 'zeros',
        }),
      );
    case 'conv2d':
      return tf.layers.conv2d(args({ ...conv(l), filters: l.filters, kernelInitializer: kernelInit(seed, name) }));
    case 'depthwiseConv2d':
      return tf.layers.depthwiseConv2d(
        args({
          ...conv(l),
          depthMultiplier: l.depthMultiplier ?? 1,
          depthwiseInitializer: kernelInit(seed, name),
        }),
      );
    case 'separableConv2d':
      return tf.layers.separableConv2d(
        args({
          ...conv(l),
          filters: l.filters,
          depthMultiplier: l.depthMultiplier ?? 1,
          depthwiseInitializer: kernelInit(seed, name),
          pointwiseInitializer: kernelInit(seed, name, 'pointwise_kernel'),
        }),
      );
    case 'maxPool2d':
      return tf.layers.maxPooling2d(args(pool(l)));
    case 'avgPool2d':
      return tf.layers.averagePooling2d(args(pool(l)));
    case 'globalAvgPool2d':
      return tf.layers.globalAveragePooling2d(args({ name, dataFormat: 'channelsLast' }));
    case 'globalMaxPool2d':
      return tf.layers.globalMaxPooling2d(args({ name, dataFormat: 'channelsLast' }));
    case 'batchNorm':
      return tf.layers.batchNormalization(
        args({
          name,
          axis: -1,
          epsilon: l.epsilon ?? 0.001,
          momentum: l.momentum ?? 0.99,
          center: l.center ?? true,
          scale: l.scale ?? true,
        }),
      );
    case 'dropout':
      return tf.layers.dropout(args({ name, rate: l.rate }));
    case 'activation':
      return tf.layers.activation(args({ name, activation: l.activation }));
    case 'add':
      return tf.layers.add(args({ name }));
    case 'concatenate':
      return tf.layers.concatenate(args({ name, axis: -1 }));
    case 'zeroPadding2d':
      return tf.layers.zeroPadding2d(args({ name, padding: l.pad, dataFormat: 'channelsLast' }));
  }
}

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
  const plan = planLayers(spec, inputShape);
  const modelName = spec.name.replace(/[^A-Za-z0-9_]/g, '_');
  const chain = plan.every((p, i) => p.inputs.length === 1 && p.inputs[0] === (i === 0 ? INPUT : plan[i - 1]!.name));
  if (chain) {
    const model = tf.sequential({ name: modelName });
    // The first layer carries the input shape, as it always has.
    plan.forEach((p, i) => model.add(tfLayer(p, seed, init, i === 0 ? { inputShape } : {})));
    return model;
  }
  const outputs = new Map<string, tf.SymbolicTensor>([[INPUT, tf.input({ shape: inputShape, name: INPUT })]]);
  for (const p of plan) {
    const ins = p.inputs.map((n) => outputs.get(n)!);
    outputs.set(p.name, tfLayer(p, seed, init).apply(ins.length === 1 ? ins[0]! : ins) as tf.SymbolicTensor);
  }
  return tf.model({ name: modelName, inputs: outputs.get(INPUT)!, outputs: outputs.get(plan[plan.length - 1]!.name)! });
}
