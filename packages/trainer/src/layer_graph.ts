import { ConfigError } from '@squash/core';
import { layerNames, walkLayers, WEIGHT_LAYERS } from '@squash/sqz/spec';
import {
  MERGE_LAYERS,
  type LayerSpec,
  type LayerType,
  type ModelSpec,
  type Pad2,
  type Size2,
  SPATIAL,
} from './layer_spec.js';

// Layer names and the graph rules are @squash/sqz's, so a decoded .sqz model is the model trained.
export { activationPoints, type GraphNode, WEIGHT_LAYERS } from '@squash/sqz/spec';

/** One weight tensor of a layer, by its role (tfjs' name: `kernel`, `depthwise_kernel`, `gamma`, …). */
export interface WeightSlot {
  role: string;
  shape: number[];
  /** Kernels are what compression applies to; biases and batch-norm parameters stay float. */
  kernel: boolean;
}

/** One layer of the built model, in topological order; `specIndex` is −1 for an inserted reshape. */
export interface PlannedLayer {
  name: string;
  type: LayerType;
  specIndex: number;
  /** The planned layers (or `input`) this one reads. */
  inputs: string[];
  /** The first input's per-sample shape. */
  inShape: number[];
  inShapes: number[][];
  outShape: number[];
  /** Every weight of the layer, in tfjs' order. */
  weights: WeightSlot[];
  /** The main kernel's shape ([in, units] or [kh, kw, in, filters]); depthwise: its depthwise kernel. */
  kernelShape?: number[];
  spec?: LayerSpec;
}

export const pair = (s: Size2): [number, number] => (typeof s === 'number' ? [s, s] : [s[0], s[1]]);
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** [[top, bottom], [left, right]] of a zero-padding spec. */
export function padding2(p: Pad2): [[number, number], [number, number]] {
  if (typeof p === 'number')
    return [
      [p, p],
      [p, p],
    ];
  if (typeof p[0] === 'number') {
    const [h, w] = p as [number, number];
    return [
      [h, h],
      [w, w],
    ];
  }
  return p as [[number, number], [number, number]];
}

/** Output size of a window along one axis (tfjs' conv_utils: 'same' pads, 'valid' does not). */
function windowOut(size: number, k: number, stride: number, pad: 'valid' | 'same'): number {
  return pad === 'same' ? Math.ceil(size / stride) : Math.floor((size - k) / stride) + 1;
}

/** The weights a layer of this type has for this input, in tfjs' order. */
function weightSlots(l: LayerSpec, inShape: number[], outShape: number[]): WeightSlot[] {
  const c = inShape[inShape.length - 1]!;
  const bias = (n: number): WeightSlot[] =>
    'useBias' in l && l.useBias === false ? [] : [{ role: 'bias', shape: [n], kernel: false }];
  switch (l.type) {
    case 'dense':
      return [{ role: 'kernel', shape: [c, l.units], kernel: true }, ...bias(l.units)];
    case 'conv2d':
      return [{ role: 'kernel', shape: [...pair(l.kernelSize), c, l.filters], kernel: true }, ...bias(l.filters)];
    case 'depthwiseConv2d': {
      const m = l.depthMultiplier ?? 1;
      return [{ role: 'depthwise_kernel', shape: [...pair(l.kernelSize), c, m], kernel: true }, ...bias(c * m)];
    }
    case 'separableConv2d': {
      const m = l.depthMultiplier ?? 1;
      return [
        { role: 'depthwise_kernel', shape: [...pair(l.kernelSize), c, m], kernel: true },
        { role: 'pointwise_kernel', shape: [1, 1, c * m, l.filters], kernel: true },
        ...bias(l.filters),
      ];
    }
    case 'batchNorm': {
      const n = outShape[outShape.length - 1]!;
      return [
        ...(l.scale === false ? [] : [{ role: 'gamma', shape: [n], kernel: false }]),
        ...(l.center === false ? [] : [{ role: 'beta', shape: [n], kernel: false }]),
        { role: 'moving_mean', shape: [n], kernel: false },
        { role: 'moving_variance', shape: [n], kernel: false },
      ];
    }
    default:
      return [];
  }
}

/** A layer's per-sample output shape, or a message saying why its input does not fit. */
function outputShape(l: LayerSpec, ins: number[][]): number[] | string {
  const s = ins[0]!;
  switch (l.type) {
    case 'flatten':
      return [prod(s)];
    case 'dense':
      return [...s.slice(0, -1), l.units];
    case 'conv2d':
    case 'depthwiseConv2d':
    case 'separableConv2d':
    case 'maxPool2d':
    case 'avgPool2d': {
      const [h, w, c] = s as [number, number, number];
      const window = pair('poolSize' in l ? l.poolSize : l.kernelSize);
      const stride = pair(l.strides ?? ('poolSize' in l ? l.poolSize : 1));
      const pad = l.padding ?? 'valid';
      if (pad === 'valid' && (window[0] > h || window[1] > w))
        return `${l.type} window ${window[0]}×${window[1]} is larger than its input ${h}×${w}`;
      const out = [windowOut(h, window[0], stride[0], pad), windowOut(w, window[1], stride[1], pad)];
      const channels =
        l.type === 'conv2d' || l.type === 'separableConv2d'
          ? l.filters
          : l.type === 'depthwiseConv2d'
            ? c * (l.depthMultiplier ?? 1)
            : c;
      return [...out, channels];
    }
    case 'globalAvgPool2d':
    case 'globalMaxPool2d':
      return [s[2]!];
    case 'zeroPadding2d': {
      const [[t, b], [left, r]] = padding2(l.pad);
      return [s[0]! + t + b, s[1]! + left + r, s[2]!];
    }
    case 'reshape': {
      const known = prod(l.targetShape.filter((d) => d !== -1));
      const total = prod(s);
      const shape = l.targetShape.map((d) => (d === -1 ? total / known : d));
      if (prod(shape) !== total || !shape.every(Number.isInteger))
        return `reshape to [${l.targetShape.join(', ')}] does not fit its input [${s.join(', ')}] (${total} values)`;
      return shape;
    }
    case 'add':
      if (!ins.every((x) => same(x, s)))
        return `add needs inputs of one shape, got ${ins.map((x) => `[${x.join(', ')}]`).join(' and ')}`;
      return s;
    case 'concatenate':
      if (!ins.every((x) => x.length === s.length && same(x.slice(0, -1), s.slice(0, -1))))
        return `concatenate needs inputs that differ only in their last axis, got ${ins.map((x) => `[${x.join(', ')}]`).join(' and ')}`;
      return [...s.slice(0, -1), ins.reduce((n, x) => n + x[x.length - 1]!, 0)];
    default:
      return s; // batchNorm, dropout, activation
  }
}

/**
 * The layers `buildModel` creates, in order, with names, inputs and per-sample shapes. Names are
 * fixed so weight names match across processes: a layer's own `name`, else `conv_1…`, `dense_1…`
 * (a dense layer keeps its number whether or not convolutions come first), `maxpool_1…`, … When a
 * layer needing an image reads a [height, width] tensor, a `reshape_<n>` to [height, width, 1] is
 * inserted before it, so datasets stay flat images; a model declaring `inputShape` gets its input
 * reshaped to that. Sizes that do not fit are ConfigErrors located at the layer.
 */
export function planLayers(spec: ModelSpec, inputShape: number[]): PlannedLayer[] {
  if (spec.inputShape && prod(spec.inputShape) !== prod(inputShape))
    throw new ConfigError(
      `model ${spec.name} expects input [${spec.inputShape.join(', ')}], the dataset's samples are [${inputShape.join(', ')}]`,
      { location: { path: 'model' } },
    );
  const out: PlannedLayer[] = [];
  walkLayers(spec, inputShape, ({ name, spec: l, specIndex, inputs }, ins) => {
    const where = { location: { path: `model.layers[${specIndex}]` } };
    const unknown = inputs.find((_, k) => !ins[k]);
    if (unknown !== undefined) throw new ConfigError(`no layer named '${unknown}' before this one`, where);
    const inShapes = ins as number[][];
    if (SPATIAL.includes(l.type) && inShapes[0]!.length !== 3)
      throw new ConfigError(
        `${l.type} needs image input [height, width] or [height, width, channels], got [${inShapes[0]!.join(', ')}]`,
        where,
      );
    if (!MERGE_LAYERS.includes(l.type) && inputs.length !== 1)
      throw new ConfigError(`${l.type} reads one layer, got ${inputs.length}`, where);
    const shape = outputShape(l, inShapes);
    if (typeof shape === 'string')
      throw new ConfigError(shape, {
        ...where,
        hint: shape.includes('window') ? "use a smaller size or padding: 'same'" : undefined,
      });
    const weights = weightSlots(l, inShapes[0]!, shape);
    out.push({
      name,
      type: l.type,
      specIndex,
      inputs,
      inShape: inShapes[0]!,
      inShapes,
      outShape: shape,
      weights,
      kernelShape: weights.find((w) => w.kernel)?.shape,
      spec: l,
    });
    return shape;
  });
  const used = new Set(out.flatMap((p) => p.inputs));
  const unused = out.slice(0, -1).filter((p) => !used.has(p.name));
  if (unused.length)
    throw new ConfigError(
      `layer ${unused.map((p) => p.name).join(', ')} is never read; every layer but the last must feed another`,
      { location: { path: `model.layers[${unused[0]!.specIndex}]` } },
    );
  return out;
}

/** The weight layers' names in order (`conv_1`, `conv_2`, `dense_1`, …) — what stages match on. */
export function weightLayerNames(spec: ModelSpec): string[] {
  const names = layerNames(spec);
  return spec.layers.flatMap((l, i) => (WEIGHT_LAYERS.includes(l.type) ? [names[i]!] : []));
}

/** Parameters and multiply-accumulates per sample of one kernel. */
export interface LayerCost {
  /** The layer (`conv_1`). */
  name: string;
  /** The kernel's weight name (`conv_1/kernel`, `sep_1/pointwise_kernel`). */
  weight: string;
  /** Kernel + bias parameters (a separable layer's bias counts with its pointwise kernel). */
  params: number;
  /** Kernel elements. */
  kernel: number;
  /** Positions the kernel is applied at per sample: outH·outW for a convolution, 1 for a dense layer on a vector. */
  positions: number;
  /** kernel · positions: a conv's outH·outW·kh·kw·in·out, a dense layer's in·out. */
  macs: number;
}

/** Per kernel: parameters and MACs per sample (a pruned kernel's MACs: its nonzeros · positions). */
export function layerCosts(spec: ModelSpec, inputShape: number[]): LayerCost[] {
  return planLayers(spec, inputShape).flatMap((p) => {
    const positions = prod(p.outShape.slice(0, -1));
    const kernels = p.weights.filter((w) => w.kernel);
    const bias = p.weights.find((w) => w.role === 'bias');
    return kernels.map((w, i) => {
      const kernel = prod(w.shape);
      const params = kernel + (bias && i === kernels.length - 1 ? prod(bias.shape) : 0);
      return { name: p.name, weight: `${p.name}/${w.role}`, params, kernel, positions, macs: kernel * positions };
    });
  });
}
