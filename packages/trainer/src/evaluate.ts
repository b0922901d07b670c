import * as tf from '@tensorflow/tfjs';
import type { Split } from '@squash/datasets';

/**
 * Called on each hidden layer's output (every layer with weights but the last) with its values,
 * which it may change in place — how activation quantization is applied and calibrated.
 */
export type ActivationHook = (layerIndex: number, layerName: string, values: Float32Array) => void;

export interface EvaluateOptions {
  batchSize?: number;
  activationHook?: ActivationHook;
}

export interface Evaluation {
  accuracy: number;
  loss: number;
  count: number;
}

function hiddenLayers(model: tf.LayersModel): Set<number> {
  const withWeights = model.layers.map((l, i) => (l.weights.length ? i : -1)).filter((i) => i >= 0);
  return new Set(withWeights.slice(0, -1));
}

/** Runs the model layer by layer so a hook can see (and fake-quantize) hidden activations. */
export function forward(model: tf.LayersModel, x: tf.Tensor, hook?: ActivationHook): tf.Tensor {
  // predictOnBatch, not predict: predict slices x into batches of 32, and a Slice on the wasm
  // backend copies the whole source tensor each time (12 s of a 13 s evaluation of 10k images).
  if (!hook) return model.predictOnBatch(x) as tf.Tensor;
  const hidden = hiddenLayers(model);
  let h = x;
  model.layers.forEach((layer, i) => {
    const next = layer.apply(h) as tf.Tensor;
    if (h !== x) h.dispose();
    h = next;
    if (hidden.has(i)) {
      const values = h.dataSync() as Float32Array;
      const copy = values.slice();
      hook(i, layer.name, copy);
      const shape = h.shape;
      h.dispose();
      h = tf.tensor(copy, shape);
    }
  });
  return h;
}

/**
 * Accuracy and mean sparse categorical cross-entropy over a split. Batches are built from
 * subarrays in JS: slicing one big tensor copies all of it per batch on the wasm backend.
 */
export function evaluate(model: tf.LayersModel, data: Split, opts: EvaluateOptions = {}): Evaluation {
  const batchSize = opts.batchSize ?? 1000;
  const per = data.x.length / data.count;
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const [loss, hits] = tf.tidy(() => {
      const x = tf.tensor(data.x.subarray(start * per, (start + n) * per), [n, ...inputShape]);
      const y = tf.tensor1d(Int32Array.from(data.y.subarray(start, start + n)), 'int32');
      const probs = forward(model, x, opts.activationHook);
      const oneHot = tf.oneHot(y, probs.shape[probs.shape.length - 1]!);
      const nll = tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(probs, 1e-7, 1 - 1e-7)))));
      return [nll, tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), y), 'int32'))];
    });
    lossSum += loss.dataSync()[0]!;
    correct += hits.dataSync()[0]!;
    tf.dispose([loss, hits]);
  }
  return { accuracy: correct / data.count, loss: lossSum / data.count, count: data.count };
}

/** Collects each hidden layer's outputs on `data` (e.g. a training subset) for calibration. */
export function collectActivations(model: tf.LayersModel, data: Split, batchSize = 1000): Map<string, Float32Array[]> {
  const out = new Map<string, Float32Array[]>();
  evaluate(model, data, {
    batchSize,
    activationHook: (_i, name, values) => {
      const list = out.get(name) ?? [];
      list.push(values.slice());
      out.set(name, list);
    },
  });
  return out;
}
