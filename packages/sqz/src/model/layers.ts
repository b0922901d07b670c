import * as tf from '@tensorflow/tfjs';
import { INPUT, type LayerSpec, layerNames, type ModelSpec, walkLayers } from './spec.js';

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

/** Extra tfjs layer arguments: a kernel's initializer, the first layer's `inputShape`, … */
export type LayerExtra = Record<string, unknown>;

/**
 * The tfjs layer for one spec layer, with every field's default written out (so a saved model.json
 * says what ran). A reshape's `targetShape` must be resolved (no −1): `buildLayersModel` does.
 */
export function createLayer(
  name: string,
  l: LayerSpec,
  init?: (role: KernelRole) => Initializer | undefined,
  extra: LayerExtra = {},
): tf.layers.Layer {
  const dataFormat = 'channelsLast' as const;
  const kernel = (role: KernelRole, key = 'kernelInitializer') => {
    const i = init?.(role);
    return i === undefined ? {} : { [key]: i };
  };
  const conv = (c: Extract<LayerSpec, { kernelSize: unknown }>) => ({
    name,
    kernelSize: c.kernelSize,
    strides: c.strides ?? 1,
    padding: c.padding ?? 'valid',
    activation: c.activation ?? 'linear',
    useBias: c.useBias ?? true,
    biasInitializer: 'zeros' as const,
    dataFormat,
    ...extra,
  });
  const pool = (c: Extract<LayerSpec, { poolSize: unknown }>) => ({
    name,
    poolSize: c.poolSize,
    strides: c.strides ?? c.poolSize,
    padding: c.padding ?? 'valid',
    dataFormat,
    ...extra,
  });
  const L = tf.layers;
  switch (l.type) {
    case 'reshape':
      return L.reshape({ name, targetShape: l.targetShape, ...extra });
    case 'flatten':
      return L.flatten({ name, ...extra });
    case 'dense':
      return L.dense({
        name,
        units: l.units,
        activation: l.activation ?? 'linear',
        useBias: l.useBias ?? true,
        ...kernel('kernel'),
        biasInitializer: 'zeros',
        ...extra,
      });
    case 'conv2d':
      return L.conv2d({ ...conv(l), filters: l.filters, ...kernel('kernel') });
    case 'depthwiseConv2d':
      return L.depthwiseConv2d({
        ...conv(l),
        depthMultiplier: l.depthMultiplier ?? 1,
        ...kernel('depthwise_kernel', 'depthwiseInitializer'),
      });
    case 'separableConv2d':
      return L.separableConv2d({
        ...conv(l),
        filters: l.filters,
        depthMultiplier: l.depthMultiplier ?? 1,
        ...kernel('depthwise_kernel', 'depthwiseInitializer'),
        ...kernel('pointwise_kernel', 'pointwiseInitializer'),
      });
    case 'maxPool2d':
      return L.maxPooling2d(pool(l));
    case 'avgPool2d':
      return L.averagePooling2d(pool(l));
    case 'globalAvgPool2d':
      return L.globalAveragePooling2d({ name, dataFormat, ...extra });
    case 'globalMaxPool2d':
      return L.globalMaxPooling2d({ name, dataFormat, ...extra });
    case 'batchNorm':
      return L.batchNormalization({
        name,
        axis: -1,
        epsilon: l.epsilon ?? 0.001,
        momentum: l.momentum ?? 0.99,
        center: l.center ?? true,
        scale: l.scale ?? true,
        ...extra,
      });
    case 'dropout':
      return L.dropout({ name, rate: l.rate, ...extra });
    case 'activation':
      return L.activation({ name, activation: l.activation, ...extra });
    case 'add':
      return L.add({ name, ...extra });
    case 'concatenate':
      return L.concatenate({ name, axis: -1, ...extra });
    case 'zeroPadding2d':
      return L.zeroPadding2d({ name, padding: l.pad, dataFormat, ...extra });
  }
  throw new Error(`unknown layer type ${JSON.stringify((l as { type: unknown }).type)}`);
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
