import * as tf from '@tensorflow/tfjs';
import { INPUT, type LayerSpec, type LayerType, layerNames, type ModelSpec, PREFIX, walkLayers } from './spec.js';

/** A tfjs initializer: a name (`'zeros'`, `'glorotUniform'`) or an object (seeded). */
export type Initializer = NonNullable<Parameters<typeof tf.layers.dense>[0]['kernelInitializer']>;
/** Which kernel of a layer an initializer is for. */
export type KernelRole = 'kernel' | 'depthwise_kernel' | 'pointwise_kernel';

export interface BuildOptions {
  /** Each kernel's initializer (default tfjs' own, Glorot-uniform); biases start at zero. */
  kernelInitializer?: (layer: string, role: KernelRole) => Initializer;
  /** Layers applied right after a layer, in order (the decoder's activation fake quantization). */
  after?: (layer: string) => tf.layers.Layer[];
}

/** Extra tfjs layer arguments: the first layer's `inputShape`, … */
export type LayerExtra = Record<string, unknown>;

/** tfjs' factory for each layer type whose name differs from the type's. */
const FACTORY: Partial<Record<LayerType, string>> = {
  maxPool2d: 'maxPooling2d',
  avgPool2d: 'averagePooling2d',
  globalAvgPool2d: 'globalAveragePooling2d',
  globalMaxPool2d: 'globalMaxPooling2d',
  batchNorm: 'batchNormalization',
};

/** Each type's kernels, by role; a role's tfjs argument is `kernelInitializer`, `depthwiseInitializer`, … */
const KERNELS: Partial<Record<LayerType, KernelRole[]>> = {
  dense: ['kernel'],
  conv2d: ['kernel'],
  depthwiseConv2d: ['depthwise_kernel'],
  separableConv2d: ['depthwise_kernel', 'pointwise_kernel'],
};

/**
 * The tfjs layer for one spec layer. A spec's fields are tfjs' own arguments (`pad` is tfjs'
 * `padding`), and an omitted one means tfjs' default, so they pass straight through. A reshape's
 * `targetShape` must be resolved (no −1): `buildLayersModel` does.
 */
export function createLayer(
  name: string,
  l: LayerSpec,
  init?: (role: KernelRole) => Initializer,
  extra: LayerExtra = {},
): tf.layers.Layer {
  const { type, inputs: _inputs, name: _name, pad, ...fields } = l as LayerSpec & { pad?: unknown };
  if (!Object.hasOwn(PREFIX, type)) throw new Error(`unknown layer type ${JSON.stringify(type)}`);
  const args: Record<string, unknown> = { ...fields, name, ...extra };
  if (pad !== undefined) args.padding = pad;
  if (init)
    for (const role of KERNELS[type] ?? [])
      args[`${role === 'kernel' ? role : role.split('_')[0]}Initializer`] = init(role);
  return (tf.layers[(FACTORY[type] ?? type) as 'dense'] as (a: object) => tf.layers.Layer)(args);
}

/** A reshape's target with its −1 worked out from the input's shape. */
function resolveShape(target: number[], input: number[]): number[] {
  const n = input.reduce((a, b) => a * b, 1) / target.reduce((a, d) => (d === -1 ? a : a * d), 1);
  return target.map((d) => (d === -1 ? n : d));
}

/**
 * The tfjs model of a spec for samples of `inputShape`: a `tf.Sequential` when every layer reads
 * the one before, a functional `tf.model` graph otherwise. Layers are named and reshapes inserted
 * as `walkLayers` says, so weight names (`<layer>/<role>`) are the same in every process.
 */
export function buildLayersModel(spec: ModelSpec, inputShape: number[], opts: BuildOptions = {}): tf.LayersModel {
  const name = spec.name.replace(/[^A-Za-z0-9_]/g, '_');
  const names = layerNames(spec);
  // The walk keeps a chain a chain: a reshape it inserts reads the layer before and feeds the next.
  const chain = spec.layers.every(
    (l, i) => !l.inputs || (l.inputs.length === 1 && l.inputs[0] === (i ? names[i - 1] : INPUT)),
  );
  const sequential = chain ? tf.sequential({ name }) : undefined;
  const outputs = new Map<string, tf.SymbolicTensor>();
  if (!sequential) outputs.set(INPUT, tf.input({ shape: inputShape, name: INPUT }));
  let last = INPUT;
  walkLayers(spec, inputShape, (step, inShapes) => {
    const missing = step.inputs.filter((_, i) => !inShapes[i]);
    if (missing.length)
      throw new Error(`layer ${step.name} reads ${missing.join(', ')}, which no layer before it makes`);
    const l = step.spec;
    const spec = l.type === 'reshape' ? { ...l, targetShape: resolveShape(l.targetShape, inShapes[0]!) } : l;
    // The first layer of a Sequential carries the input shape.
    const extra = sequential && last === INPUT ? { inputShape } : {};
    const init = opts.kernelInitializer;
    const layers = [
      createLayer(step.name, spec, init && ((role) => init(step.name, role)), extra),
      ...(opts.after?.(step.name) ?? []),
    ];
    let y: tf.SymbolicTensor;
    if (sequential) {
      for (const layer of layers) sequential.add(layer);
      y = sequential.outputs[0]!;
    } else {
      const ins = step.inputs.map((n) => outputs.get(n)!);
      y = layers.reduce<tf.SymbolicTensor | tf.SymbolicTensor[]>(
        (x, layer) => layer.apply(x) as tf.SymbolicTensor,
        ins.length === 1 ? ins[0]! : ins,
      ) as tf.SymbolicTensor;
    }
    outputs.set(step.name, y);
    last = step.name;
    return y.shape.slice(1) as number[];
  });
  return sequential ?? tf.model({ name, inputs: outputs.get(INPUT)!, outputs: outputs.get(last)! });
}
