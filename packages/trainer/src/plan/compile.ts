import * as tf from '@tensorflow/tfjs';
import { convDimsOf, depthwiseDims, poolDimsOf, type ConvDims, type PoolDims } from '@squash/backend';
import { graphOf, type LayerView } from '../forward.js';
import { KERNEL_ROLES } from '../kernel_roles.js';
import { ACTIVATIONS } from './activations.js';
import { batchNormNode } from './batch_norm.js';
import type { Param, PlanNode } from './node.js';
import {
  activationNode,
  addNode,
  avgPoolNode,
  concatNode,
  dropoutNode,
  fakeQuantNode,
  globalAvgPoolNode,
  maxPoolNode,
  zeroPadNode,
} from './shape_nodes.js';
import { makeSlot, reshapeSlot, type Slot } from './slots.js';
import { conv2dNode, denseNode, depthwiseNode } from './weighted.js';

/**
 * Training constraints the plan applies itself (the same ones `fineTune` builds its kernel and
 * activation hooks from): quantizers with a straight-through gradient, shared weights, activation
 * fake quantization.
 */
export interface PlanConstraints {
  /** Kernel name → quantizer: the forward pass sees quantize(w), the gradient reaches w. */
  ste?: ReadonlyMap<string, (values: Float32Array) => Float32Array>;
  /** Kernel name → centroids (a variable) and each element's centroid index: kernel = centroids[index]. */
  shared?: ReadonlyMap<string, { centroids: tf.Variable; index: Int32Array; frozen?: Uint8Array }>;
  /** Hidden activation (its activation point's name) → range, quantized in place by `quantizeInPlace`. */
  activations?: {
    ranges: ReadonlyMap<string, { min: number; max: number }>;
    quantizeInPlace: (values: Float32Array, range: { min: number; max: number }, layer: string) => void;
  };
}

export interface CompileOptions {
  maxBatch: number;
  /** The variables training updates (none: an inference plan). */
  variables?: readonly tf.Variable[];
  /** Variable → 1 where a weight is kept. */
  masks?: ReadonlyMap<tf.Variable, Uint8Array>;
  constraints?: PlanConstraints;
}

/** A trained array: a variable's values in the plan, its gradient, and its mask. */
export interface Master {
  variable: tf.Variable;
  values: Float32Array;
  grad: Float32Array;
  mask?: Uint8Array;
}

/** A model compiled into plan nodes over preallocated memory. */
export interface CompiledModel {
  input: Slot;
  nodes: PlanNode[];
  /** The last weighted layer's pre-softmax output. */
  logits: Slot;
  classes: number;
  masters: Master[];
  /** Weights read from variables (everything the forward pass reads that is not derived). */
  stored: Array<{ variable: tf.Variable; values: Float32Array; pushed: boolean }>;
  /** Before each forward pass: quantized and shared kernels formed from their masters. */
  prepare(): void;
  /** After each backward pass: shared kernels' gradients summed into their centroids. */
  reduceGrads(): void;
}

export class PlanUnsupported extends Error {}

const unsupported = (why: string): never => {
  throw new PlanUnsupported(why);
};

export interface ConvConfig {
  strides: [number, number];
  padding: 'valid' | 'same';
  dilationRate: [number, number] | number;
  dataFormat?: string;
}

const perSample = (shape: tf.Shape | tf.Shape[]): number[] => {
  if (Array.isArray(shape[0])) return unsupported('a layer with several outputs');
  return (shape as (number | null)[]).slice(1).map((d) => {
    if (d === null || d === undefined) return unsupported('a layer whose output shape is not fixed');
    return d;
  });
};

/** A convolution's geometry for the C++ kernels (batch 1: nodes re-batch it per call). */
export function convDims(inShape: number[], filterShape: number[], c: ConvConfig): ConvDims {
  if (c.dataFormat && c.dataFormat !== 'channelsLast') unsupported('channels-first data');
  return convDimsOf(
    tf.backend_util.computeConv2DInfo(
      [1, ...inShape] as [number, number, number, number],
      filterShape as [number, number, number, number],
      c.strides,
      c.dilationRate,
      c.padding,
    ),
  );
}

/** A pooling window's geometry for the C++ kernels (batch 1). */
export function poolDims(
  inShape: number[],
  c: { poolSize: [number, number]; strides: [number, number]; padding: 'valid' | 'same' },
): PoolDims {
  return poolDimsOf(
    tf.backend_util.computePool2DInfo(
      [1, ...inShape] as [number, number, number, number],
      c.poolSize,
      c.strides,
      1,
      c.padding,
    ),
  );
}

/**
 * Compiles a model built by `buildModel` (or loaded from a tfjs file) into plan nodes, or throws
 * PlanUnsupported saying what the plan does not cover (the caller then trains through tfjs'
 * autograd). The output must be a softmax: the plan trains on its logits with the fused loss.
 */
export function compileModel(model: tf.LayersModel, opts: CompileOptions): CompiledModel {
  const g = graphOf(model);
  if (g.input.size !== 1) unsupported('a model with several inputs');
  const training = !!opts.variables;
  const { maxBatch } = opts;
  const constraints = opts.constraints ?? {};
  const trainable = new Set(opts.variables ?? []);
  const masters = new Map<tf.Variable, Master>();
  const master = (v: tf.Variable): Master => {
    let m = masters.get(v);
    if (!m) {
      const size = v.size;
      m = { variable: v, values: new Float32Array(size), grad: new Float32Array(size), mask: opts.masks?.get(v) };
      masters.set(v, m);
    }
    return m;
  };
  const stored: CompiledModel['stored'] = [];
  const prepares: Array<() => void> = [];
  const reduces: Array<() => void> = [];

  const param = (v: LayerView, role: string): Param | null => {
    const variable = v.w[role];
    if (!variable) return null;
    const name = `${v.name}/${role}`;
    const shape = variable.shape;
    const isKernel = Object.hasOwn(KERNEL_ROLES, role);
    const shared = isKernel ? constraints.shared?.get(name) : undefined;
    if (shared) {
      const c = shared.centroids;
      const trains = trainable.has(c);
      const cm = trains ? master(c) : undefined;
      const centroidValues = cm?.values ?? new Float32Array(c.size);
      if (!cm) stored.push({ variable: c, values: centroidValues, pushed: false });
      const value = new Float32Array(variable.size);
      const grad = cm ? new Float32Array(variable.size) : null;
      const index = shared.index;
      if (index.length !== value.length) unsupported(`${name}: shared-weight index of another size`);
      prepares.push(() => {
        for (let i = 0; i < value.length; i++) value[i] = centroidValues[index[i]!]!;
      });
      if (cm && grad)
        reduces.push(() => {
          const sums = cm.grad;
          sums.fill(0);
          for (let i = 0; i < grad.length; i++) sums[index[i]!]! += grad[i]!;
        });
      return { name, shape, value, grad };
    }
    const quantize = isKernel ? constraints.ste?.get(name) : undefined;
    const trains = trainable.has(variable);
    let values: Float32Array;
    let grad: Float32Array | null = null;
    if (trains) {
      const m = master(variable);
      values = m.values;
      grad = m.grad;
    } else {
      values = new Float32Array(variable.size);
      stored.push({ variable, values, pushed: role === 'moving_mean' || role === 'moving_variance' });
    }
    if (!quantize) return { name, shape, value: values, grad };
    const value = new Float32Array(variable.size);
    prepares.push(() => value.set(quantize(values)));
    return { name, shape, value, grad };
  };

  const input = makeSlot('input', perSample(model.inputs[0]!.shape), maxBatch, false);
  const slots = new Map<string, Slot>([...g.input].map((name) => [name, input]));
  const nodes: PlanNode[] = [];
  const outputView = g.views[g.views.length - 1]!;
  let logits: Slot | undefined;

  for (const v of g.views) {
    const ins = v.inputs.map((name) => slots.get(name) ?? unsupported(`${v.name} reads ${name} before it is computed`));
    const x = ins[0]!;
    const layer = model.layers[v.index]!;
    const shape = perSample(layer.outputShape);
    const isOutput = v === outputView;
    const params = new Map(Object.keys(v.w).map((role) => [role, param(v, role)]));
    const P = (role: string) => params.get(role) ?? null;
    const trains = [...params.values()].some((p) => p?.grad);
    const needGrad = training && (trains || ins.some((s) => s.dy));
    const out = () => makeSlot(v.name, shape, maxBatch, needGrad);
    // The softmax is the loss's: the output layer computes logits.
    let act = v.activation;
    if (isOutput && act === 'softmax') act = 'linear';
    else if (act !== 'linear' && !ACTIVATIONS[act]) unsupported(`${v.name}: activation ${act}`);
    const c = v.config as unknown as ConvConfig;
    let node: PlanNode | undefined;
    let y: Slot;
    switch (v.className) {
      case 'Flatten':
      case 'Reshape':
        y = reshapeSlot(x, v.name, shape);
        break;
      case 'Dense':
        node = denseNode(v.name, x, (y = out()), P('kernel')!, P('bias'), act);
        break;
      case 'Conv2D':
        node = conv2dNode(
          v.name,
          x,
          (y = out()),
          P('kernel')!,
          P('bias'),
          act,
          convDims(x.shape, v.w.kernel!.shape, c),
        );
        break;
      case 'DepthwiseConv2D':
      case 'SeparableConv2D': {
        const dw = depthwiseDims(tf, [1, ...x.shape], v.w.depthwise_kernel!.shape, {
          strides: c.strides,
          dilations: c.dilationRate,
          pad: c.padding,
        });
        if (c.dataFormat && c.dataFormat !== 'channelsLast') unsupported('channels-first data');
        if (!dw) return unsupported(`${v.name}: dilated depthwise convolution`);
        node = depthwiseNode(
          v.name,
          x,
          (y = out()),
          P('depthwise_kernel')!,
          v.className === 'SeparableConv2D' ? P('pointwise_kernel') : null,
          P('bias'),
          act,
          dw,
        );
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const pc = v.config as unknown as {
          poolSize: [number, number];
          strides: [number, number];
          padding: 'valid' | 'same';
          dataFormat?: string;
        };
        if (pc.dataFormat && pc.dataFormat !== 'channelsLast') unsupported('channels-first data');
        const dims = poolDims(x.shape, pc);
        if (v.className === 'MaxPooling2D') node = maxPoolNode(v.name, x, (y = out()), dims);
        else if (pc.padding === 'valid') node = avgPoolNode(v.name, x, (y = out()), dims);
        else return unsupported(`${v.name}: average pooling with 'same' padding`);
        break;
      }
      case 'GlobalAveragePooling2D':
        node = globalAvgPoolNode(v.name, x, (y = out()));
        break;
      case 'BatchNormalization': {
        const axis = v.config.axis as number | number[];
        const rank = x.shape.length + 1;
        if (
          !(
            axis === -1 ||
            axis === rank - 1 ||
            (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === rank - 1))
          )
        )
          unsupported(`${v.name}: batch norm over an axis other than the last`);
        node = batchNormNode(v.name, x, (y = out()), {
          gamma: P('gamma'),
          beta: P('beta'),
          movingMean: P('moving_mean')!,
          movingVariance: P('moving_variance')!,
          epsilon: v.config.epsilon as number,
          momentum: v.config.momentum as number,
        });
        break;
      }
      case 'Dropout':
        node = dropoutNode(v.name, x, (y = out()), v.config.rate as number);
        break;
      case 'Activation':
        if (act === 'linear') y = x;
        else node = activationNode(v.name, x, (y = out()), act);
        break;
      case 'Add':
        node = addNode(v.name, ins, (y = out()));
        break;
      case 'Concatenate':
        if (v.config.axis !== -1 && v.config.axis !== x.shape.length)
          unsupported(`${v.name}: concatenation not on the last axis`);
        node = concatNode(v.name, ins, (y = out()));
        break;
      case 'ZeroPadding2D': {
        const [[top], [left]] = v.config.padding as [[number, number], [number, number]];
        node = zeroPadNode(v.name, x, (y = out()), top, left);
        break;
      }
      default:
        return unsupported(`layer ${v.className} (${v.name})`);
    }
    if (node) nodes.push(node);
    // An output Activation('softmax') right after the last weighted layer: its input is the logits.
    if (isOutput && v.className === 'Activation' && v.activation === 'softmax') logits = x;
    else if (isOutput) logits = y!;
    const point = g.points.get(v.name);
    const range = point !== undefined ? constraints.activations?.ranges.get(point) : undefined;
    if (range && point !== undefined) {
      const q = makeSlot(`${v.name}:fake-quant`, y!.shape, maxBatch, needGrad);
      nodes.push(fakeQuantNode(point, y!, q, range, constraints.activations!.quantizeInPlace));
      y = q;
    }
    slots.set(v.name, y!);
  }
  const last = outputView;
  const softmaxOut = last.activation === 'softmax';
  if (!softmaxOut) unsupported('the model does not end in a softmax');
  if (logits?.shape.length !== 1) unsupported('the output is not one vector of class scores per sample');
  for (const v of trainable) if (!masters.has(v)) unsupported(`variable ${v.name} is not read by the model's layers`);
  if (logits!.dy === null && training) unsupported('nothing to train');
  return {
    input,
    nodes,
    logits: logits!,
    classes: logits!.size,
    masters: [...masters.values()],
    stored,
    prepare: () => prepares.forEach((f) => f()),
    reduceGrads: () => reduces.forEach((f) => f()),
  };
}
