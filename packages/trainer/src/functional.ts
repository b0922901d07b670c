import * as tf from '@tensorflow/tfjs';

/** Replaces a weight layer's kernel in the forward pass (fake quantization, shared weights, …). */
export type KernelFn = (layerIndex: number, weightName: string, kernel: tf.Variable) => tf.Tensor;
/** Transforms a hidden layer's output in the forward pass (activation fake quantization). */
export type ActivationFn = (layerIndex: number, layerName: string, output: tf.Tensor) => tf.Tensor;

export interface ForwardOptions {
  kernelFor?: KernelFn;
  activationFor?: ActivationFn;
  /** Return the last layer's pre-softmax logits (distillation needs them). */
  logits?: boolean;
}

interface LayerView {
  className: string;
  name: string;
  kernel?: tf.Variable;
  bias?: tf.Variable;
  activation: string;
  config: Record<string, unknown>;
  hidden: boolean;
  last: boolean;
}

function views(model: tf.LayersModel): LayerView[] {
  const weighted = model.layers.map((l, i) => (l.weights.length ? i : -1)).filter((i) => i >= 0);
  const lastWeighted = weighted[weighted.length - 1];
  return model.layers.map((l, i) => {
    const byRole = Object.fromEntries(
      l.trainableWeights.map((w) => [w.originalName.split('/').pop()!, w.read() as tf.Variable]),
    );
    const config = l.getConfig() as Record<string, unknown>;
    return {
      className: l.getClassName(),
      name: l.name,
      kernel: byRole.kernel,
      bias: byRole.bias,
      activation: (config.activation as string | undefined) ?? 'linear',
      config,
      hidden: l.weights.length > 0 && i !== lastWeighted,
      last: i === lastWeighted,
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

/**
 * The model's forward pass written out over its own variables, so training can swap a kernel
 * for a fake-quantized or shared-weight version, quantize hidden activations, or stop before the
 * softmax — none of which `model.apply` allows. Same math as the layers: x·W + b (or the NHWC
 * convolution with a [kh, kw, in, out] kernel) + b, then the activation; pools and reshapes as the
 * layers do them.
 */
export function forwardFunctional(model: tf.LayersModel, x: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor {
  let h = x;
  views(model).forEach((v, i) => {
    switch (v.className) {
      case 'Flatten':
        h = tf.reshape(h, [h.shape[0]!, -1]);
        return;
      case 'Reshape':
        h = tf.reshape(h, [h.shape[0]!, ...(v.config.targetShape as number[])]);
        return;
      case 'MaxPooling2D': {
        const c = v.config as { poolSize: [number, number]; strides: [number, number]; padding: 'valid' | 'same' };
        h = tf.maxPool(h as tf.Tensor4D, c.poolSize, c.strides, c.padding);
        return;
      }
      case 'Dense': {
        const kernel = opts.kernelFor ? opts.kernelFor(i, `${v.name}/kernel`, v.kernel!) : v.kernel!;
        h = tf.matMul(h as tf.Tensor2D, kernel as tf.Tensor2D);
        if (v.bias) h = tf.add(h, v.bias);
        break;
      }
      case 'Conv2D': {
        const c = v.config as { strides: [number, number]; padding: 'valid' | 'same'; dilationRate: [number, number] };
        const kernel = opts.kernelFor ? opts.kernelFor(i, `${v.name}/kernel`, v.kernel!) : v.kernel!;
        h = tf.conv2d(h as tf.Tensor4D, kernel as tf.Tensor4D, c.strides, c.padding, 'NHWC', c.dilationRate);
        if (v.bias) h = tf.add(h, v.bias);
        break;
      }
      default:
        throw new Error(`forward: unsupported layer ${v.className} (${v.name})`);
    }
    if (!(v.last && opts.logits && v.activation === 'softmax')) h = activate(v.activation, h);
    if (v.hidden && opts.activationFor) h = opts.activationFor(i, v.name, h);
  });
  return h;
}

/** The trainable variables by weight name (`dense_1/kernel`). */
export function variablesByName(model: tf.LayersModel): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const l of model.layers)
    for (const w of l.trainableWeights)
      out.set(`${l.name}/${w.originalName.split('/').pop()}`, w.read() as tf.Variable);
  return out;
}
