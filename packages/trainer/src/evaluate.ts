import * as tf from '@tensorflow/tfjs';
import type { Split } from '@squash/datasets';
import { nativeAddon } from '@squash/backend';
import { forward, type ActivationHook } from './forward.js';
import { PlanUnsupported } from './plan/compile.js';
import { rowMax } from './plan/loss.js';
import { InferencePlan } from './plan/run_plan.js';

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

const inferencePlans = new WeakMap<tf.LayersModel, { plan: InferencePlan; batch: number } | null>();

/**
 * The model's compiled inference plan on the native backend (kept per model and batch size), or
 * undefined: another backend, SQUASH_TRAINING_PATH=autograd, or a layer the plan does not cover.
 */
function inferencePlan(model: tf.LayersModel, batch: number): InferencePlan | undefined {
  if (process.env.SQUASH_TRAINING_PATH === 'autograd') return undefined;
  const addon = nativeAddon(tf);
  if (!addon) return undefined;
  const known = inferencePlans.get(model);
  if (known === null) return undefined;
  if (known && known.batch >= batch) return known.plan;
  try {
    const plan = InferencePlan.compile(model, addon, batch);
    inferencePlans.set(model, { plan, batch });
    return plan;
  } catch (e) {
    if (!(e instanceof PlanUnsupported)) throw e;
    inferencePlans.set(model, null);
    return undefined;
  }
}

/**
 * Through the compiled plan: logits per batch, then Keras' clipped cross-entropy of their softmax
 * and the argmax (the softmax's argmax) against the labels.
 */
function evaluateWithPlan(plan: InferencePlan, data: Split, batchSize: number): Evaluation {
  plan.pull();
  const per = data.x.length / data.count;
  const input = plan.input();
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    input.set(data.x.subarray(start * per, (start + n) * per));
    const z = plan.logits(n);
    const classes = z.length / n;
    for (let r = 0; r < n; r++) {
      const o = r * classes;
      const label = data.y[start + r]!;
      const { best, max } = rowMax(z, o, classes);
      if (best === label) correct++;
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(z[o + c]! - max);
      const p = Math.exp(z[o + label]! - max) / sum;
      lossSum -= Math.log(Math.min(Math.max(p, 1e-7), 1 - 1e-7));
    }
  }
  return { accuracy: correct / data.count, loss: lossSum / data.count, count: data.count };
}

/**
 * Accuracy and mean sparse categorical cross-entropy over a split: through the compiled plan on
 * the native backend when the model compiles and no hook is given, else tfjs ops.
 */
export function evaluate(model: tf.LayersModel, data: Split, opts: EvaluateOptions = {}): Evaluation {
  const batchSize = opts.batchSize ?? 1000;
  const plan = opts.activationHook ? undefined : inferencePlan(model, Math.min(batchSize, data.count));
  if (plan) return evaluateWithPlan(plan, data, batchSize);
  let correct = 0;
  let lossSum = 0;
  eachBatch(model, data, batchSize, (x, labels) => {
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
