import * as tf from '@tensorflow/tfjs';
import { createRng } from '@squash/core';
import type { LayerType } from './layer_spec.js';
import { activationPoints } from './layer_graph.js';

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

/**
 * One training step's forward pass. Dropout's mask is a function of (seed, step, layer name), so a
 * run replays exactly and each step drops differently.
 */
export interface TrainingPass {
  seed: number;
  step: number;
  /**
   * Where the pass leaves each batch-norm layer's batch moments. The moving averages move after the
   * optimizer step and outside the gradient (tfjs-layers moves them inside `call`), so the caller
   * applies these with `updateMovingStats` once the step is done; omitted, they are not kept.
   */
  moments?: BatchMoments[];
}

/** A batch-norm layer's moments over one batch (kept tensors) and the moving averages they move. */
export interface BatchMoments {
  layer: string;
  mean: tf.Tensor;
  variance: tf.Tensor;
  movingMean: tf.Variable;
  movingVariance: tf.Variable;
  momentum: number;
}

/**
 * Moves each moving mean and variance toward its batch moments as tfjs-layers' BatchNormalization
 * does (moving ← moving − (moving − batch)·(1 − momentum)), then disposes the moments.
 */
export function updateMovingStats(moments: BatchMoments[]): void {
  tf.tidy(() => {
    for (const m of moments) {
      for (const [moving, batch] of [
        [m.movingMean, m.mean],
        [m.movingVariance, m.variance],
      ] as const) {
        moving.assign(tf.sub(moving, tf.mul(tf.sub(moving, batch), 1 - m.momentum)));
      }
    }
  });
  tf.dispose(moments.flatMap((m) => [m.mean, m.variance]));
}

/** A 32-bit seed for one layer's dropout mask at one step (FNV-1a over seed, step and name). */
function maskSeed(seed: number, step: number, layer: string): number {
  let h = 2166136261;
  const mix = (v: number) => (h = Math.imul(h ^ (v & 0xffffffff), 16777619));
  mix(seed);
  mix(Math.floor(seed / 2 ** 32));
  mix(step);
  for (let i = 0; i < layer.length; i++) mix(layer.charCodeAt(i));
  return h | 0;
}

/**
 * Inverted dropout as tfjs computes it (x · floor(u + keep) / keep, u uniform in [0, 1)): kept
 * values scaled by 1/(1 − rate), dropped ones 0. The uniforms come from squash's seeded generator,
 * not tfjs' global one, so the mask is the same on every backend and in every process.
 */
function dropout(h: tf.Tensor, rate: number, pass: TrainingPass, layer: string): tf.Tensor {
  const rng = createRng(maskSeed(pass.seed, pass.step, layer));
  const scale = Math.fround(1 / Math.fround(1 - rate));
  const mask = new Float32Array(h.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() >= rate ? scale : 0;
  return tf.mul(h, tf.tensor(mask, h.shape));
}

/** Typed `tf.customGrad` for three inputs (its published type mixes the inputs with `save`). */
type Grad3 = (
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor[] };
const customGrad3 = (f: Grad3) =>
  tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
    x: tf.Tensor,
    gamma: tf.Tensor,
    beta: tf.Tensor,
  ) => tf.Tensor;

/**
 * Batch normalization in training, as tfjs-layers' normalizeBatchInTraining: the batch's mean and
 * (biased) variance over every axis but the channels, gradients flowing through both. Written as
 * one op with its own gradient (the standard batch-norm backward pass) over the [values, channels]
 * view in plain loops: composed of tfjs ops, its broadcasts took tfjs' cpu backend (and so native)
 * ~90 % of a residual CNN's training step.
 */
function batchNormTraining(h: tf.Tensor, v: LayerView, pass: TrainingPass): tf.Tensor {
  const { moving_mean: movingMean, moving_variance: movingVariance } = v.w;
  const channels = h.shape[h.rank - 1]!;
  const epsilon = v.config.epsilon as number;
  let mean = new Float32Array(0);
  let variance = new Float32Array(0);
  const op = customGrad3((x, gamma, beta) => {
    const xs = x.dataSync() as Float32Array;
    const g = gamma.dataSync() as Float32Array;
    const b = beta.dataSync() as Float32Array;
    const rows = xs.length / channels;
    const sum = new Float64Array(channels);
    for (let i = 0; i < xs.length; i += channels) for (let c = 0; c < channels; c++) sum[c]! += xs[i + c]!;
    mean = Float32Array.from(sum, (s) => s / rows);
    const sq = new Float64Array(channels);
    for (let i = 0; i < xs.length; i += channels)
      for (let c = 0; c < channels; c++) {
        const d = xs[i + c]! - mean[c]!;
        sq[c]! += d * d;
      }
    variance = Float32Array.from(sq, (s) => s / rows);
    const inv = Float64Array.from(variance, (s) => 1 / Math.sqrt(s + epsilon));
    const xhat = new Float32Array(xs.length);
    const y = new Float32Array(xs.length);
    for (let i = 0; i < xs.length; i += channels)
      for (let c = 0; c < channels; c++) {
        const n = (xs[i + c]! - mean[c]!) * inv[c]!;
        xhat[i + c] = n;
        y[i + c] = n * g[c]! + b[c]!;
      }
    return {
      value: tf.tensor(y, x.shape),
      gradFunc: (dy) => {
        const d = dy.dataSync() as Float32Array;
        const dBeta = new Float64Array(channels);
        const dGamma = new Float64Array(channels);
        for (let i = 0; i < d.length; i += channels)
          for (let c = 0; c < channels; c++) {
            dBeta[c]! += d[i + c]!;
            dGamma[c]! += d[i + c]! * xhat[i + c]!;
          }
        // dx = γ/(σ·R) · (R·dy − Σdy − x̂·Σ(dy·x̂)), per channel.
        const dx = new Float32Array(d.length);
        const k = Float64Array.from(inv, (s, c) => (g[c]! * s) / rows);
        for (let i = 0; i < d.length; i += channels)
          for (let c = 0; c < channels; c++)
            dx[i + c] = k[c]! * (rows * d[i + c]! - dBeta[c]! - xhat[i + c]! * dGamma[c]!);
        return [
          tf.tensor(dx, x.shape),
          tf.tensor(Float32Array.from(dGamma), [channels]),
          tf.tensor(Float32Array.from(dBeta), [channels]),
        ];
      },
    };
  });
  const out = op(h, v.w.gamma ?? tf.ones([channels]), v.w.beta ?? tf.zeros([channels]));
  pass.moments?.push({
    layer: v.name,
    mean: tf.keep(tf.tensor1d(mean)),
    variance: tf.keep(tf.tensor1d(variance)),
    movingMean: movingMean!,
    movingVariance: movingVariance!,
    momentum: v.config.momentum as number,
  });
  return out;
}

/**
 * The mean over each sample's positions per channel, with its gradient (dy / positions to every
 * position), in plain loops: tfjs' cpu backend (native) spends most of a small CNN's step in
 * mean's gradient or avgPool's.
 */
function globalAveragePool(h: tf.Tensor): tf.Tensor {
  const [n, height, width, channels] = h.shape as [number, number, number, number];
  const positions = height * width;
  const op = tf.customGrad(((x: tf.Tensor) => {
    const xs = x.dataSync() as Float32Array;
    const out = new Float32Array(n * channels);
    for (let s = 0; s < n; s++) {
      const sums = new Float64Array(channels);
      const base = s * positions * channels;
      for (let p = 0; p < positions; p++) for (let c = 0; c < channels; c++) sums[c]! += xs[base + p * channels + c]!;
      for (let c = 0; c < channels; c++) out[s * channels + c] = sums[c]! / positions;
    }
    return {
      value: tf.tensor(out, [n, channels]),
      gradFunc: (dy: tf.Tensor) => {
        const d = dy.dataSync() as Float32Array;
        const dx = new Float32Array(xs.length);
        for (let s = 0; s < n; s++)
          for (let p = 0; p < positions; p++)
            for (let c = 0; c < channels; c++)
              dx[(s * positions + p) * channels + c] = d[s * channels + c]! / positions;
        return [tf.tensor(dx, x.shape)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
  return op(h);
}

/** The tfjs layer classes `buildModel` creates, as layer types (`activationPoints` reads the graph in these). */
const CLASS_TYPES: Record<string, LayerType> = {
  Flatten: 'flatten',
  Dense: 'dense',
  Conv2D: 'conv2d',
  DepthwiseConv2D: 'depthwiseConv2d',
  SeparableConv2D: 'separableConv2d',
  MaxPooling2D: 'maxPool2d',
  AveragePooling2D: 'avgPool2d',
  GlobalAveragePooling2D: 'globalAvgPool2d',
  GlobalMaxPooling2D: 'globalMaxPool2d',
  BatchNormalization: 'batchNorm',
  Dropout: 'dropout',
  Activation: 'activation',
  Add: 'add',
  Concatenate: 'concatenate',
  ZeroPadding2D: 'zeroPadding2d',
  Reshape: 'reshape',
};

interface LayerView {
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

interface Graph {
  views: LayerView[];
  input: Set<string>;
  output: string;
  /** Layer name → the hidden activation it ends (the name of the layer that computed it). */
  points: Map<string, string>;
  last: string;
}

const graphs = new WeakMap<tf.LayersModel, Graph>();

/** The model's layers in order with what each reads, and where its hidden activations are (computed once per model). */
function graphOf(model: tf.LayersModel): Graph {
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
    const type = CLASS_TYPES[v.className];
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
