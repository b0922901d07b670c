import * as tf from '@tensorflow/tfjs';
import { fakeQuantizeInPlace } from '../format/index.js';

/** One hidden activation's quantization, as a `.sqz` header records it. */
export interface ActivationQuant {
  bits: number;
  min: number;
  max: number;
}

/**
 * Activation fake quantization as a Keras-style layer: `fakeQuantizeInPlace` on a copy of its
 * input, in JavaScript, so a decoded model computes exactly what the trainer evaluated (a tfjs op
 * chain would round differently). Inference only: it has no gradient.
 */
export class SquashFakeQuant extends tf.layers.Layer {
  static readonly className = 'SquashFakeQuant';
  readonly quant: ActivationQuant;

  constructor(config: ActivationQuant & { name?: string }) {
    super({ name: config.name });
    this.quant = { bits: config.bits, min: config.min, max: config.max };
    // Bits or range out of bounds throw here, when the model is made, not at its first prediction.
    fakeQuantizeInPlace(new Float32Array(0), this.quant, this.quant.bits);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const values = (x.dataSync() as Float32Array).slice();
    fakeQuantizeInPlace(values, this.quant, this.quant.bits);
    return tf.tensor(values, x.shape, 'float32');
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.quant };
  }
}

tf.serialization.registerClass(SquashFakeQuant);
