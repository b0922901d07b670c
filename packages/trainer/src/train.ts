import * as tf from '@tensorflow/tfjs';
import { createRng } from '@squash/core';
import type { Split } from '@squash/datasets';
import { evaluate } from './evaluate.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Fraction of the training split held out (its last samples) to report validation metrics. */
  validationSplit?: number;
  /** Called after each epoch; `val*` only when a validation split is set. */
  onEpoch?: (e: EpochLog) => void;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
  samplesPerSecond: number;
}

/** Carves the last `fraction` of a split off as validation data (never the test split). */
export function splitValidation(data: Split, fraction: number): { train: Split; validation?: Split } {
  if (!fraction) return { train: data };
  const nVal = Math.round(data.count * fraction);
  const nTrain = data.count - nVal;
  const per = data.x.length / data.count;
  return {
    train: { x: data.x.subarray(0, nTrain * per), y: data.y.subarray(0, nTrain), count: nTrain },
    validation: { x: data.x.subarray(nTrain * per), y: data.y.subarray(nTrain), count: nVal },
  };
}

/** Keras' sparse categorical cross-entropy on probabilities, clipped like Keras does. */
export function sparseCategoricalCrossEntropy(labels: tf.Tensor1D, probs: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, probs.shape[probs.shape.length - 1]!);
    const logp = tf.log(tf.clipByValue(probs, 1e-7, 1 - 1e-7));
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logp), -1))) as tf.Scalar;
  });
}

/**
 * Adam + sparse categorical cross-entropy with a seeded shuffle per epoch. Our own loop instead of
 * `model.fit`: fit shuffles with Math.random, which would make the same seed train differently.
 */
export async function train(model: tf.LayersModel, data: Split, opts: TrainOptions): Promise<EpochLog[]> {
  const { train: trainSet, validation } = splitValidation(data, opts.validationSplit ?? 0);
  const per = trainSet.x.length / trainSet.count;
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  const optimizer = tf.train.adam(opts.learningRate);
  const rng = createRng(opts.seed);
  const order = Int32Array.from({ length: trainSet.count }, (_, i) => i);
  const xb = new Float32Array(opts.batchSize * per);
  const yb = new Int32Array(opts.batchSize);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const logs: EpochLog[] = [];

  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    rng.shuffle(order);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < trainSet.count; start += opts.batchSize) {
      const n = Math.min(opts.batchSize, trainSet.count - start);
      for (let i = 0; i < n; i++) {
        const k = order[start + i]!;
        xb.set(trainSet.x.subarray(k * per, (k + 1) * per), i * per);
        yb[i] = trainSet.y[k]!;
      }
      const [loss, hits] = tf.tidy(() => {
        const x = tf.tensor(xb.subarray(0, n * per), [n, ...inputShape]);
        const y = tf.tensor1d(yb.subarray(0, n), 'int32');
        let h: tf.Tensor | undefined;
        const cost = optimizer.minimize(() => {
          const probs = model.apply(x, { training: true }) as tf.Tensor;
          // Kept out of the gradient scope, which disposes everything else it creates.
          h = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), y), 'int32')));
          return sparseCategoricalCrossEntropy(y, probs);
        }, true, vars)!;
        return [cost, h!];
      });
      // Reading back per batch keeps memory flat and costs little next to the step itself.
      lossSum += (await loss.data())[0]! * n;
      correct += (await hits.data())[0]!;
      tf.dispose([loss, hits]);
    }
    const seconds = (performance.now() - t0) / 1000;
    const log: EpochLog = {
      epoch,
      loss: lossSum / trainSet.count,
      accuracy: correct / trainSet.count,
      seconds,
      samplesPerSecond: trainSet.count / seconds,
    };
    if (validation) {
      const v = evaluate(model, validation);
      log.valLoss = v.loss;
      log.valAccuracy = v.accuracy;
    }
    logs.push(log);
    opts.onEpoch?.(log);
  }
  optimizer.dispose();
  return logs;
}
