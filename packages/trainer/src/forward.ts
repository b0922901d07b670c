import * as tf from '@tensorflow/tfjs';

/** Replaces a weight layer's kernel in the forward pass (fake quantization, shared weights, …). */
export type KernelFn = (layerIndex: number, weightName: string, kernel: tf.Variable) => tf.Tensor;

/**
 * Sees a hidden layer's output (after its activation) and returns what the next layer gets:
 * activation fake quantization, its calibration, a probe. Hidden layers: see `isHidden`.
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
}

interface LayerView {
  index: number;
  className: string;
  name: string;
  kernel?: tf.Variable;
  bias?: tf.Variable;
  activation: string;
  config: Record<string, unknown>;
  hidden: boolean;
  last: boolean;
}

/**
 * The one rule for which layers are hidden — the ones whose outputs activation quantization
 * applies to: every layer with weights except the last (the output layer's are the probabilities).
 */
function isHidden(layerIndex: number, withWeights: number[]): boolean {
  return withWeights.includes(layerIndex) && layerIndex !== withWeights[withWeights.length - 1];
}

function views(model: tf.LayersModel): LayerView[] {
  const withWeights = model.layers.map((l, i) => (l.weights.length ? i : -1)).filter((i) => i >= 0);
  return model.layers.map((l, i) => {
    const byRole = Object.fromEntries(
      l.trainableWeights.map((w) => [w.originalName.split('/').pop()!, w.read() as tf.Variable]),
    );
    const config = l.getConfig() as Record<string, unknown>;
    return {
      index: i,
      className: l.getClassName(),
      name: l.name,
      kernel: byRole.kernel,
      bias: byRole.bias,
      activation: (config.activation as string | undefined) ?? 'linear',
      config,
      hidden: isHidden(i, withWeights),
      last: i === withWeights[withWeights.length - 1],
    };
  });
}

function activate(name: string, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'relu':
      return tf.relu(x);
    case 'softmax':
      return tf.softmax(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'linear':
      return x;
    default:
      throw new Error(`forward: unsupported activation '${name}'`);
  }
}

/** The activations tf.layers fuses into its matMul/conv kernels (tfjs-layers' mapActivationToFusedKernel). */
const fusable = (activation: string) => (activation === 'relu' || activation === 'linear' ? activation : undefined);

/** A weight layer's output: x·W + b or the NHWC convolution + b, then its activation (unless logits). */
function weighted(h: tf.Tensor, v: LayerView, kernel: tf.Tensor, fuse: boolean, logits: boolean): tf.Tensor {
  const act = logits && v.last && v.activation === 'softmax' ? 'linear' : v.activation;
  const c = v.config as { strides: [number, number]; padding: 'valid' | 'same'; dilationRate: [number, number] };
  if (!fuse) {
    const out =
      v.className === 'Dense'
        ? tf.matMul(h as tf.Tensor2D, kernel as tf.Tensor2D)
        : tf.conv2d(h as tf.Tensor4D, kernel as tf.Tensor4D, c.strides, c.padding, 'NHWC', c.dilationRate);
    return activate(act, v.bias ? tf.add(out, v.bias) : out);
  }
  // As tf.layers computes it: bias and relu/linear inside the fused kernel, other activations after.
  const fused = fusable(act);
  if (v.className === 'Dense') {
    // tfjs-layers' Dense: a batch of vectors through one 2-D matMul; a bias it cannot fuse is added after.
    const a = h.rank === 2 ? h : tf.reshape(h, [-1, h.shape[h.rank - 1]!]);
    let y = tf.fused.matMul({
      a: a as tf.Tensor2D,
      b: kernel as tf.Tensor2D,
      bias: fused && v.bias,
      activation: fused,
    });
    if (h.rank !== 2) y = tf.reshape(y, [...h.shape.slice(0, -1), kernel.shape[1]!]);
    return fused ? y : activate(act, v.bias ? tf.add(y, v.bias) : y);
  }
  const out = tf.fused.conv2d({
    x: h as tf.Tensor4D,
    filter: kernel as tf.Tensor4D,
    strides: c.strides,
    pad: c.padding,
    dataFormat: 'NHWC',
    dilations: c.dilationRate,
    bias: v.bias,
    activation: fused ?? 'linear',
  });
  return fused ? out : activate(act, out);
}

/**
 * The model's forward pass written out over its own variables — the one evaluation, training,
 * fine-tuning and activation calibration share — so a caller can swap a kernel (fake-quantized,
 * shared weights), see or change hidden activations, or stop before the softmax, none of which
 * `model.apply` allows. With the default `fuse` it computes exactly what `model.predict` does.
 */
export function forward(model: tf.LayersModel, x: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor {
  const fuse = opts.fuse ?? true;
  let h = x;
  for (const v of views(model)) {
    switch (v.className) {
      case 'Flatten':
        h = tf.reshape(h, [h.shape[0]!, -1]);
        continue;
      case 'Reshape':
        h = tf.reshape(h, [h.shape[0]!, ...(v.config.targetShape as number[])]);
        continue;
      case 'MaxPooling2D': {
        const c = v.config as { poolSize: [number, number]; strides: [number, number]; padding: 'valid' | 'same' };
        h = tf.maxPool(h as tf.Tensor4D, c.poolSize, c.strides, c.padding);
        continue;
      }
      case 'Dense':
      case 'Conv2D': {
        const kernel = opts.kernelFor ? opts.kernelFor(v.index, `${v.name}/kernel`, v.kernel!) : v.kernel!;
        h = weighted(h, v, kernel, fuse, opts.logits ?? false);
        break;
      }
      default:
        throw new Error(`forward: unsupported layer ${v.className} (${v.name})`);
    }
    if (v.hidden && opts.activationHook) h = opts.activationHook(v.index, v.name, h);
  }
  return h;
}

/**
 * A hook that edits each hidden layer's values in JS (fake quantization with the compressors' pure
 * functions): it gets a copy of the values, and the next layer gets the edited copy.
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
