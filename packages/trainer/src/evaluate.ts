import * as tf from '@tensorflow/tfjs';
import type { Split } from '@squash/datasets';
import { forward, type ActivationHook } from './forward.js';

export interface EvaluateOptions {
  batchSize?: number;
  activationHook?: ActivationHook;
}

export interface Evaluation {
  accuracy: number;
  loss: number;
  count: number;
}

/**
 * Runs `fn` on each batch of a split, inside a tidy. Batches are built from subarrays in JS:
 * slicing one big tensor copies all of it per batch on the wasm backend.
 */
function eachBatch(
  model: tf.LayersModel,
  data: Split,
  batchSize: number,
  fn: (x: tf.Tensor, labels: Split['y']) => void,
): void {
  const per = data.x.length / data.count;
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    tf.tidy(() =>
      fn(
        tf.tensor(data.x.subarray(start * per, (start + n) * per), [n, ...inputShape]),
        data.y.subarray(start, start + n),
      ),
    );
  }
}

/** Accuracy and mean sparse categorical cross-entropy over a split. */
export function evaluate(model: tf.LayersModel, data: Split, opts: EvaluateOptions = {}): Evaluation {
  let correct = 0;
  let lossSum = 0;
  eachBatch(model, data, opts.batchSize ?? 1000, (x, labels) => {
    const y = tf.tensor1d(Int32Array.from(labels), 'int32');
    const probs = forward(model, x, { activationHook: opts.activationHook });
    const oneHot = tf.oneHot(y, probs.shape[probs.shape.length - 1]!);
    const nll = tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(probs, 1e-7, 1 - 1e-7)))));
    lossSum += nll.dataSync()[0]!;
    correct += tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), y), 'int32')).dataSync()[0]!;
  });
  return { accuracy: correct / data.count, loss: lossSum / data.count, count: data.count };
}

/** Collects each hidden layer's outputs on `data` (e.g. a training subset) for calibration, batch by batch. */
export function collectActivations(model: tf.LayersModel, data: Split, batchSize = 1000): Map<string, Float32Array[]> {
  const out = new Map<string, Float32Array[]>();
  const record: ActivationHook = (_i, name, output) => {
    const list = out.get(name) ?? [];
    list.push((output.dataSync() as Float32Array).slice());
    out.set(name, list);
    return output;
  };
  eachBatch(model, data, batchSize, (x) => forward(model, x, { activationHook: record }));
  return out;
}
