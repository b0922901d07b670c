import * as tf from '@tensorflow/tfjs';
import { LAYER_CLASSES, type LayerType } from './layer_spec.js';
import { activationPoints } from './layer_graph.js';
import { batchNormTraining, dropout, globalAveragePool, type TrainingPass } from './training_ops.js';

export { updateMovingStats, type BatchMoments, type TrainingPass } from './training_ops.js';

/** Replaces a kernel in the forward pass (fake quantization, shared weights, …); `weightName` is `conv_1/kernel`. */
export type KernelFn = (layerIndex: number, weightName: string, kernel: tf.Variable) => tf.Tensor;

/**
 * Sees a hidden activation (see `activationPoints`) and returns what the layers after it get:
 * activation fake quantization, its calibration, a probe. `layerName` names the layer that computed it.
 */
export type ActivationHook = (layerIndex: number, layerName: string, output: tf.Tensor) => tf.Tensor;

export interface ForwardOptions {
  kernelFor?: KernelFn;
  activationHook?: ActivationHook;
  /** Return the last layer's pre-softmax logits (distillation needs them). */
  logits?: boolean;
  /**
   * Weighted layers as tf.layers computes them (default): bias and relu/linear fused into the
   * matMul or conv kernel. `false`: matMul/conv, bias add and activation as separate ops, which
   * fine-tuning has always used. The wasm backend's fused kernels round differently from the
   * separate ops, so each caller keeps the one its recorded numbers came from.
   */
  fuse?: boolean;
  /** Training semantics (batch norm on the batch's moments, dropout on); omitted: inference. */
  training?: TrainingPass;
}

/** The tfjs layer classes `buildModel` creates, as layer types (`activationPoints` reads the graph in these). */
const CLASS_TYPES = new Map(Object.entries(LAYER_CLASSES).map(([type, cls]) => [cls, type as LayerType]));

export interface LayerView {
  index: number;
  className: string;
  name: string;
  /** Names of the layers this one reads; an InputLayer reads none. */
  inputs: string[];
  /** Weights by role (`kernel`, `bias`, `gamma`, `moving_mean`, …). */
  w: Record<string, tf.Variable>;
  activation: string;
  config: Record<string, unknown>;
}

export interface Graph {
  views: LayerView[];
  input: Set<string>;
  output: string;
  /** Layer name → the hidden activation it ends (the name of the layer that computed it). */
  points: Map<string, string>;
  last: string;
}

const graphs = new WeakMap<tf.LayersModel, Graph>();

/** The model's layers in order with what each reads, and where its hidden activations are (computed once per model). */
export function graphOf(model: tf.LayersModel): Graph {
  const known = graphs.get(model);
  if (known) return known;
  const input = new Set<string>();
  const views: LayerView[] = [];
  model.layers.forEach((l, index) => {
    const className = l.getClassName();
    const inbound = l.inboundNodes[0]?.inboundLayers ?? [];
    for (const from of inbound) if (from.getClassName() === 'InputLayer') input.add(from.name);
    if (className === 'InputLayer') {
      input.add(l.name);
      return;
    }
    if (l.inboundNodes.length > 1)
      throw new Error(`forward: layer ${l.name} is used more than once (shared layers are not supported)`);
    const config = l.getConfig() as Record<string, unknown>;
    views.push({
      index,
      className,
      name: l.name,
      inputs: inbound.map((from) => from.name),
      w: Object.fromEntries(l.weights.map((w) => [w.originalName.split('/').pop()!, w.read() as tf.Variable])),
      activation: (config.activation as string | undefined) ?? 'linear',
      config,
    });
  });
  const typed = views.map((v) => {
    const type = CLASS_TYPES.get(v.className);
    if (!type) throw new Error(`forward: unsupported layer ${v.className} (${v.name})`);
    return { name: v.name, type, inputs: v.inputs };
  });
  const weighted = views.filter((v) => v.w.kernel || v.w.depthwise_kernel);
  const graph: Graph = {
    views,
    input,
    output: views[views.length - 1]!.name,
    points: new Map(activationPoints(typed).map((p) => [p.at, p.name])),
    last: weighted[weighted.length - 1]?.name ?? '',
  };
  graphs.set(model, graph);
  return graph;
}

function activate(name: string, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'elu':
      return tf.elu(x);
    case 'selu':
      return tf.selu(x);
    case 'softmax':
      return tf.softmax(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'hardSigmoid':
      // tfjs-layers' HardSigmoid: clip(0.2·x + 0.5, 0, 1).
      return tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1);
    case 'softplus':
      return tf.softplus(x);
    case 'softsign':
      return tf.div(x, tf.add(tf.abs(x), 1));
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'linear':
      return x;
    default:
      throw new Error(`forward: unsupported activation '${name}'`);
  }
}

/** The activations tf.layers fuses into its matMul/conv kernels (tfjs-layers' mapActivationToFusedKernel). */
const fusable = (activation: string) => (activation === 'relu' || activation === 'linear' ? activation : undefined);

interface ConvConfig {
  strides: [number, number];
  padding: 'valid' | 'same';
  dilationRate: [number, number];
}

/** A dense or conv layer's output: x·W + b or the NHWC convolution + b, then its activation. */
function weighted(h: tf.Tensor, v: LayerView, kernel: tf.Tensor, fuse: boolean, act: string): tf.Tensor {
  const bias = v.w.bias;
  const c = v.config as unknown as ConvConfig;
  if (!fuse) {
    const out =
      v.className === 'Dense'
        ? tf.matMul(h as tf.Tensor2D, kernel as tf.Tensor2D)
        : tf.conv2d(h as tf.Tensor4D, kernel as tf.Tensor4D, c.strides, c.padding, 'NHWC', c.dilationRate);
    return activate(act, bias ? tf.add(out, bias) : out);
  }
  // As tf.layers computes it: bias and relu/linear inside the fused kernel, other activations after.
  const fused = fusable(act);
  if (v.className === 'Dense') {
    // tfjs-layers' Dense: a batch of vectors through one 2-D matMul; a bias it cannot fuse is added after.
    const a = h.rank === 2 ? h : tf.reshape(h, [-1, h.shape[h.rank - 1]!]);
    let y = tf.fused.matMul({ a: a as tf.Tensor2D, b: kernel as tf.Tensor2D, bias: fused && bias, activation: fused });
    if (h.rank !== 2) y = tf.reshape(y, [...h.shape.slice(0, -1), kernel.shape[1]!]);
    return fused ? y : activate(act, bias ? tf.add(y, bias) : y);
  }
  const out = tf.fused.conv2d({
    x: h as tf.Tensor4D,
    filter: kernel as tf.Tensor4D,
    strides: c.strides,
    pad: c.padding,
    dataFormat: 'NHWC',
    dilations: c.dilationRate,
    bias,
    activation: fused ?? 'linear',
  });
  return fused ? out : activate(act, out);
}

/** Depthwise and separable convolutions as tf.layers computes them: the convolution, then bias, then activation. */
function depthwise(h: tf.Tensor, v: LayerView, kernels: Record<string, tf.Tensor>, act: string): tf.Tensor {
  const c = v.config as unknown as ConvConfig;
  const out =
    v.className === 'DepthwiseConv2D'
      ? tf.depthwiseConv2d(h as tf.Tensor4D, kernels.depthwise_kernel as tf.Tensor4D, c.strides, c.padding, 'NHWC')
      : tf.separableConv2d(
          h as tf.Tensor4D,
          kernels.depthwise_kernel as tf.Tensor4D,
          kernels.pointwise_kernel as tf.Tensor4D,
          c.strides,
          c.padding,
          c.dilationRate,
          'NHWC',
        );
  return activate(act, v.w.bias ? tf.add(out, v.w.bias) : out);
}

interface PoolConfig {
  poolSize: [number, number];
  strides: [number, number];
  padding: 'valid' | 'same';
}

/** One layer's output from its inputs (inference, or training with `opts.training`). */
function layerOutput(v: LayerView, ins: tf.Tensor[], opts: ForwardOptions, fuse: boolean, last: boolean): tf.Tensor {
  const h = ins[0]!;
  const kernel = (role: string) =>
    opts.kernelFor ? opts.kernelFor(v.index, `${v.name}/${role}`, v.w[role]!) : v.w[role]!;
  // Logits: the last weight layer without its softmax.
  const act = opts.logits && last && v.activation === 'softmax' ? 'linear' : v.activation;
  switch (v.className) {
    case 'Flatten':
      return tf.reshape(h, [h.shape[0]!, -1]);
    case 'Reshape':
      return tf.reshape(h, [h.shape[0]!, ...(v.config.targetShape as number[])]);
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const c = v.config as unknown as PoolConfig;
      const pool = v.className === 'MaxPooling2D' ? tf.maxPool : tf.avgPool;
      return pool(h as tf.Tensor4D, c.poolSize, c.strides, c.padding);
    }
    case 'GlobalAveragePooling2D':
      // Inference as tfjs-layers computes it; training through our own op (see globalAveragePool).
      return opts.training ? globalAveragePool(h) : tf.mean(h, [1, 2]);
    case 'GlobalMaxPooling2D':
      return tf.max(h, [1, 2]);
    case 'Dense':
    case 'Conv2D':
      return weighted(h, v, kernel('kernel'), fuse, act);
    case 'DepthwiseConv2D':
      return depthwise(h, v, { depthwise_kernel: kernel('depthwise_kernel') }, act);
    case 'SeparableConv2D':
      return depthwise(
        h,
        v,
        { depthwise_kernel: kernel('depthwise_kernel'), pointwise_kernel: kernel('pointwise_kernel') },
        act,
      );
    case 'BatchNormalization': {
      if (opts.training) return batchNormTraining(h, v, opts.training);
      const { gamma, beta, moving_mean: mean, moving_variance: variance } = v.w;
      return tf.batchNorm(h, mean!, variance!, beta, gamma, v.config.epsilon as number);
    }
    case 'Dropout': {
      const rate = v.config.rate as number;
      // tfjs-layers' Dropout is the identity unless 0 < rate < 1.
      return opts.training && rate > 0 && rate < 1 ? dropout(h, rate, opts.training, v.name) : h;
    }
    case 'Activation':
      return activate(opts.logits && last && v.activation === 'softmax' ? 'linear' : v.activation, h);
    case 'Add':
      return ins.slice(1).reduce((sum, x) => tf.add(sum, x), h);
    case 'Concatenate':
      return tf.concat(ins, -1);
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = v.config.padding as [[number, number], [number, number]];
      return tf.pad(h, [
        [0, 0],
        [t, b],
        [l, r],
        [0, 0],
      ]);
    }
    default:
      throw new Error(`forward: unsupported layer ${v.className} (${v.name})`);
  }
}

/**
 * The model's forward pass written out over its own variables — the one evaluation, training,
 * fine-tuning and activation calibration share — so a caller can swap a kernel (fake-quantized,
 * shared weights), see or change hidden activations, or stop before the softmax, none of which
 * `model.apply` allows. Walks sequential and functional models alike; with the default `fuse` it
 * computes exactly what `model.predict` does. With `training` it computes what
 * `model.apply(x, {training: true})` does, except that batch norm's moving averages move only when
 * the caller applies `training.moments` (`updateMovingStats`) and dropout draws its own masks.
 */
export function forward(model: tf.LayersModel, x: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor {
  const fuse = opts.fuse ?? true;
  const g = graphOf(model);
  const values = new Map<string, tf.Tensor>();
  const read = (name: string) => (g.input.has(name) ? x : values.get(name)!);
  for (const v of g.views) {
    // The softmax a logits pass skips is the last weight layer's own, or an activation layer right after it.
    const last = v.name === g.last || (v.className === 'Activation' && v.name === g.output && v.inputs[0] === g.last);
    let h = layerOutput(v, v.inputs.map(read), opts, fuse, last);
    const point = g.points.get(v.name);
    if (point !== undefined && opts.activationHook) h = opts.activationHook(v.index, point, h);
    values.set(v.name, h);
  }
  return values.get(g.output)!;
}

/**
 * A hook that edits each hidden activation's values in JS (fake quantization with the compressors'
 * pure functions): it gets a copy of the values, and the next layer gets the edited copy.
 */
export function valuesHook(edit: (layerName: string, values: Float32Array) => void): ActivationHook {
  return (_i, name, output) => {
    const values = (output.dataSync() as Float32Array).slice();
    edit(name, values);
    return tf.tensor(values, output.shape);
  };
}

/** The trainable variables by weight name (`dense_1/kernel`). */
export function variablesByName(model: tf.LayersModel): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const l of model.layers)
    for (const w of l.trainableWeights)
      out.set(`${l.name}/${w.originalName.split('/').pop()}`, w.read() as tf.Variable);
  return out;
}
