import * as tf from '@tensorflow/tfjs';
import type { ActivationHook, KernelFn } from './forward.js';

/**
 * `tf.customGrad` for one input, typed (its published type mixes inputs with the save callback).
 * The gradient gets the input back through tfjs' save mechanism: a tensor captured in a closure
 * is disposed by the time the gradient runs.
 */
function withGradient(
  x: tf.Tensor,
  f: (x: tf.Tensor) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, input: tf.Tensor) => tf.Tensor[] },
): tf.Tensor {
  const custom = (input: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
    save([input]);
    const { value, gradFunc } = f(input);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => gradFunc(dy, saved[0]!) };
  };
  return tf.customGrad(custom as unknown as Parameters<typeof tf.customGrad>[0])(x) as tf.Tensor;
}

/**
 * Quantization-aware training with a straight-through estimator (Bengio et al. 2013): the forward
 * pass sees quantize(w), the gradient flows to w as if quantize were the identity. The quantizer
 * is the exact one used afterwards (a pure function from @squash/compressors), so training sees
 * precisely the values the compressed model will have.
 */
export function steKernel(quantizers: Map<string, (values: Float32Array) => Float32Array>): KernelFn {
  return (_i, name, kernel) => {
    const quantize = quantizers.get(name);
    if (!quantize) return kernel;
    const q = quantize(kernel.dataSync() as Float32Array);
    return withGradient(kernel, (w) => ({ value: tf.tensor(q, w.shape), gradFunc: (dy) => [dy] }));
  };
}

/**
 * Activation fake quantization for training: forward = quantize(a), gradient = dy inside the
 * calibrated range and 0 outside it (the clipped STE used by TF's FakeQuant ops).
 */
export function steActivation(
  ranges: Map<string, { min: number; max: number }>,
  quantizeInPlace: (values: Float32Array, range: { min: number; max: number }, layer: string) => void,
): ActivationHook {
  return (_i, name, output) => {
    const range = ranges.get(name);
    if (!range) return output;
    const values = (output.dataSync() as Float32Array).slice();
    quantizeInPlace(values, range, name);
    return withGradient(output, (a) => ({
      value: tf.tensor(values, a.shape),
      gradFunc: (dy, input) => [
        tf.mul(
          dy,
          tf.cast(tf.logicalAnd(tf.greaterEqual(input, range.min), tf.lessEqual(input, range.max)), 'float32'),
        ),
      ],
    }));
  };
}

export interface SharedWeights {
  /**
   * Weight name → centroid variable (channels × levels), each element's flat centroid index, and the
   * centroids held at exactly 0 (the zero symbols of pruned positions: pass as `constraints.shared`
   * to fineTune, whose optimizer masks them).
   */
  layers: Map<string, { centroids: tf.Variable; index: Int32Array; frozen: Uint8Array }>;
  kernelFor: KernelFn;
  variables: tf.Variable[];
  dispose(): void;
}

/**
 * Deep Compression's centroid fine-tuning: each kernel is `centroids[index]`, and a centroid's
 * gradient is the sum of its members' gradients. The sum is done in JS in the gradient function
 * because tfjs-backend-wasm has no UnsortedSegmentSum kernel (the gather gradient needs it).
 */
export function sharedWeights(
  layers: Array<{ name: string; shape: number[]; codebook: Float32Array; index: Int32Array; frozen: Uint8Array }>,
): SharedWeights {
  const map = new Map(
    layers.map((l) => [
      l.name,
      { centroids: tf.variable(tf.tensor1d(l.codebook)), index: l.index, frozen: l.frozen, shape: l.shape },
    ]),
  );
  const kernelFor: KernelFn = (_i, name, kernel) => {
    const l = map.get(name);
    if (!l) return kernel;
    return withGradient(l.centroids, (c) => {
      const values = c.dataSync() as Float32Array;
      const out = new Float32Array(l.index.length);
      for (let i = 0; i < out.length; i++) out[i] = values[l.index[i]!]!;
      return {
        value: tf.tensor(out, l.shape),
        gradFunc: (dy) => {
          const g = dy.dataSync() as Float32Array;
          const sums = new Float32Array(values.length);
          for (let i = 0; i < g.length; i++) sums[l.index[i]!]! += g[i]!;
          return [tf.tensor1d(sums)];
        },
      };
    });
  };
  return {
    layers: map,
    kernelFor,
    variables: [...map.values()].map((l) => l.centroids),
    dispose: () => tf.dispose([...map.values()].map((l) => l.centroids)),
  };
}
