import * as tf from '@tensorflow/tfjs';
import { createRng } from '@squash/core';
import type { BatchAugment, Split } from '@squash/datasets';
import { TrainingOptimizer } from './optim/optimizer.js';
import { learningRateAt } from './optim/schedule.js';
import type { OptimizerSettings } from './optim/settings.js';
import { NATIVE_BACKEND, nativeAddon } from '@squash/backend';
import { PlanUnsupported, type PlanConstraints } from './plan/compile.js';
import { InferencePlan, TrainPlan } from './plan/run_plan.js';
import type { TrainingPath } from './training_path.js';
import { evaluate } from './evaluate.js';
import {
  forward,
  updateMovingStats,
  variablesByName,
  type ActivationHook,
  type BatchMoments,
  type KernelFn,
  type TrainingPass,
} from './forward.js';

export interface TrainOptions {
  epochs: number;
  /** Stop after this many optimizer steps instead (Caffe's max_iter); the last epoch is then partial. */
  iterations?: number;
  batchSize: number;
  /** The base rate; `optimizer.schedule` varies it per step. */
  learningRate: number;
  /** Optimizer, schedule, weight decay, clipping, label smoothing (absent fields: their defaults, Adam). */
  optimizer?: Partial<OptimizerSettings>;
  seed: number;
  /** Fraction of the training split held out (its last samples) to report validation metrics. */
  validationSplit?: number;
  /** Called after each epoch; `val*` only when a validation split is set. */
  onEpoch?: (e: EpochLog) => void;
  /**
   * Awaited after every step. Training keeps the event loop busy, so this is where the caller lets
   * it run (signals, IPC) and stops training by throwing (the process is ending: nothing is freed).
   */
  checkStop?: () => Promise<void>;
  /**
   * Changes each training batch in place after it is gathered (data augmentation); it sees a copy,
   * so the split, its validation part and everything evaluated stay as they are.
   */
  augment?: BatchAugment;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
  samplesPerSecond: number;
  /** The engine that trained this epoch (recorded with the run; absent in logs cached before it was). */
  path?: TrainingPath;
}

/** Training under constraints, after compression (Han et al. retrain, QAT, distillation). */
export interface FineTuneOptions extends TrainOptions {
  /** Weight name → mask (1 = kept). Re-applied after every step, so pruned weights stay 0. */
  masks?: Map<string, Uint8Array>;
  /** Forward-pass kernel replacement (fake quantization with a straight-through gradient, …). */
  kernelFor?: KernelFn;
  /** The forward pass's activation hook (activation fake quantization with a straight-through gradient). */
  activationHook?: ActivationHook;
  /** What the optimizer updates; default: every trainable weight of the model. */
  variables?: tf.Variable[];
  /** Called after every optimizer step with the global step (1-based): pruning schedules. */
  afterStep?: (step: number) => void;
  /**
   * Weighted layers with bias and relu fused into the matMul/conv kernel (see `ForwardOptions.fuse`).
   * Default: fused on the native backend, whose fused kernels add the bias and clamp in the same
   * float32 order as the separate ops (a test holds them to the same weights), and separate
   * elsewhere, where fused kernels round differently and recorded numbers came from separate ops.
   */
  fuse?: boolean;
  /** Knowledge distillation (Hinton et al. 2015) from a trained teacher. */
  distill?: { teacher: tf.LayersModel; temperature: number; alpha: number };
  /**
   * What `kernelFor` and `activationHook` do, as data the compiled plan applies itself (they stay
   * the autograd path's). Hooks given without it train through tfjs' autograd. Shared kernels'
   * frozen centroids (`frozen` = 1) are held at exactly 0 after every step on both paths.
   */
  constraints?: PlanConstraints;
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

/**
 * Keras' sparse categorical cross-entropy on probabilities, clipped like Keras does; with label
 * smoothing ε the target is (1 − ε)·onehot + ε/K (Szegedy et al. 2016).
 */
export function sparseCategoricalCrossEntropy(labels: tf.Tensor1D, probs: tf.Tensor, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const classes = probs.shape[probs.shape.length - 1]!;
    let target: tf.Tensor = tf.oneHot(labels, classes);
    if (labelSmoothing > 0) target = tf.add(tf.mul(target, 1 - labelSmoothing), labelSmoothing / classes);
    const logp = tf.log(tf.clipByValue(probs, 1e-7, 1 - 1e-7));
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logp), -1))) as tf.Scalar;
  });
}

/** Hinton et al.: α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(y, softmax(s)). */
export function distillationLoss(
  labels: tf.Tensor1D,
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  temperature: number,
  alpha: number,
  labelSmoothing = 0,
): tf.Scalar {
  return tf.tidy(() => {
    const soft = tf.softmax(tf.div(teacherLogits, temperature));
    const logSoftStudent = tf.logSoftmax(tf.div(studentLogits, temperature));
    const kl = tf.mean(tf.sum(tf.mul(soft, tf.sub(tf.log(tf.add(soft, 1e-12)), logSoftStudent)), -1));
    const hard = tf.losses.softmaxCrossEntropy(
      tf.oneHot(labels, studentLogits.shape[1]!),
      studentLogits,
      undefined,
      labelSmoothing,
    );
    return tf.add(tf.mul(alpha * temperature * temperature, kl), tf.mul(1 - alpha, hard)) as tf.Scalar;
  });
}

/**
 * One step's loss and the batch's predictions (probabilities or logits: argmax is the same), from
 * the model's forward pass in training mode (`training`).
 */
type StepLoss = (x: tf.Tensor, y: tf.Tensor1D, training: TrainingPass) => { loss: tf.Scalar; scores: tf.Tensor };

/**
 * The compiled native plan for this training, or why it cannot run: another backend, the addon
 * missing, SQUASH_TRAINING_PATH=autograd, hooks given without their `constraints`, or a layer or
 * setting the plan does not cover.
 */
function compilePlan(
  model: tf.LayersModel,
  opts: FineTuneOptions,
  vars: tf.Variable[],
  masks: ReadonlyMap<tf.Variable, Uint8Array>,
): { plan: TrainPlan; teacher?: InferencePlan } | { why: string } {
  if (process.env.SQUASH_TRAINING_PATH === 'autograd') return { why: 'SQUASH_TRAINING_PATH=autograd' };
  const addon = nativeAddon(tf);
  if (!addon) return { why: `the ${tf.getBackend()} backend has no compiled plan` };
  if ((opts.kernelFor || opts.activationHook) && !opts.constraints)
    return { why: 'kernel or activation hooks without their constraints' };
  try {
    const plan = TrainPlan.compile(model, addon, {
      maxBatch: opts.batchSize,
      variables: vars,
      masks,
      constraints: opts.constraints,
      optimizer: opts.optimizer,
    });
    const teacher = opts.distill && InferencePlan.compile(opts.distill.teacher, addon, opts.batchSize);
    teacher?.pull();
    return { plan, teacher };
  } catch (e) {
    if (e instanceof PlanUnsupported) return { why: e.message };
    throw e;
  }
}

/** Where each variable's weights are kept (1) — the caller's masks by weight name, and frozen centroids. */
function variableMasks(model: tf.LayersModel, opts: FineTuneOptions): Map<tf.Variable, Uint8Array> {
  const byName = variablesByName(model);
  const out = new Map<tf.Variable, Uint8Array>();
  for (const [name, m] of opts.masks ?? new Map<string, Uint8Array>()) {
    const v = byName.get(name);
    if (!v) throw new Error(`fine-tune: mask for ${name}, which is not a trainable weight of the model`);
    out.set(v, m);
  }
  for (const { centroids, frozen } of opts.constraints?.shared?.values() ?? [])
    if (frozen?.some((f) => f))
      out.set(
        centroids,
        Uint8Array.from(frozen, (f) => (f ? 0 : 1)),
      );
  return out;
}

/**
 * The shared loop: the optimizer and schedule of `opts.optimizer`, a seeded shuffle per epoch,
 * batches built in JS. Our own loop instead of `model.fit`, which shuffles with Math.random and
 * would make the same seed train differently. On the native backend each step runs as the
 * compiled plan (one pass over preallocated memory, no tfjs op); elsewhere, and for what the
 * plan does not cover, through tfjs' autograd with `stepLoss`.
 */
async function fitLoop(
  model: tf.LayersModel,
  data: Split,
  opts: FineTuneOptions,
  stepLoss: StepLoss,
  vars: tf.Variable[],
): Promise<EpochLog[]> {
  const { train: trainSet, validation } = splitValidation(data, opts.validationSplit ?? 0);
  const per = trainSet.x.length / trainSet.count;
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  const perEpoch = Math.ceil(trainSet.count / opts.batchSize);
  const totalSteps = opts.iterations ?? opts.epochs * perEpoch;
  const epochs = opts.iterations !== undefined ? Math.ceil(opts.iterations / perEpoch) : opts.epochs;
  const rng = createRng(opts.seed);
  const order = Int32Array.from({ length: trainSet.count }, (_, i) => i);
  const masks = variableMasks(model, opts);
  // Pruned weights start at 0; the optimizer keeps them there (its update is masked).
  tf.tidy(() => masks.forEach((m, v) => v.assign(tf.mul(v, tf.tensor(Float32Array.from(m), v.shape)))));
  const compiled = compilePlan(model, opts, vars, masks);
  const plan = 'plan' in compiled ? compiled.plan : undefined;
  const teacher = 'plan' in compiled ? compiled.teacher : undefined;
  const path: TrainingPath = plan ? 'native-plan' : 'tfjs-autograd';
  plan?.pull();
  const optimizer = plan ? undefined : new TrainingOptimizer(vars, opts.optimizer, masks);
  const xb = plan ? plan.input() : new Float32Array(opts.batchSize * per);
  const yb = plan ? plan.labels : new Int32Array(opts.batchSize);
  const smoothing = opts.optimizer?.labelSmoothing ?? 0;
  const logs: EpochLog[] = [];
  let step = 0;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    rng.shuffle(order);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let start = 0; start < trainSet.count && step < totalSteps; start += opts.batchSize) {
      const n = Math.min(opts.batchSize, trainSet.count - start);
      for (let i = 0; i < n; i++) {
        const k = order[start + i]!;
        xb.set(trainSet.x.subarray(k * per, (k + 1) * per), i * per);
        yb[i] = trainSet.y[k]!;
      }
      opts.augment?.(xb, n, { seed: opts.seed, epoch, step: step + 1, indices: order.subarray(start, start + n) });
      const lr = learningRateAt(opts.learningRate, opts.optimizer ?? {}, step, totalSteps);
      if (plan) {
        const r = plan.step({
          n,
          learningRate: lr,
          seed: opts.seed,
          step: step + 1,
          labelSmoothing: smoothing,
          distill: teacher && { teacher, temperature: opts.distill!.temperature, alpha: opts.distill!.alpha },
        });
        step++;
        if (opts.afterStep) {
          // The hook reads and changes the model's variables (pruning schedules).
          plan.push();
          opts.afterStep(step);
          plan.pull();
        }
        lossSum += r.loss * n;
        correct += r.hits;
      } else {
        const moments: BatchMoments[] = [];
        const training: TrainingPass = { seed: opts.seed, step: step + 1, moments };
        const [loss, hits] = tf.tidy(() => {
          const x = tf.tensor(xb.subarray(0, n * per), [n, ...inputShape]);
          const y = tf.tensor1d(yb.subarray(0, n), 'int32');
          let h: tf.Tensor | undefined;
          const { value, grads } = tf.variableGrads(() => {
            const { loss: l, scores } = stepLoss(x, y, training);
            // Kept out of the gradient scope, which disposes everything else it creates.
            h = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(scores, -1), y), 'int32')));
            return l;
          }, vars);
          optimizer!.step(
            vars.map((v) => grads[v.name]),
            lr,
          );
          return [value, h!];
        });
        // Batch norm's moving averages are not trained: they follow the batches, after the step.
        updateMovingStats(moments);
        // Not `afterStep?.(++step)`: an absent hook would skip the increment with the call.
        step++;
        opts.afterStep?.(step);
        // Reading back per batch keeps memory flat and costs little next to the step itself.
        lossSum += (await loss.data())[0]! * n;
        correct += (await hits.data())[0]!;
        tf.dispose([loss, hits]);
      }
      seen += n;
      await opts.checkStop?.();
    }
    plan?.push();
    const seconds = (performance.now() - t0) / 1000;
    const log: EpochLog = {
      epoch,
      loss: lossSum / seen,
      accuracy: correct / seen,
      seconds,
      samplesPerSecond: seen / seconds,
      path,
    };
    if (validation) {
      const v = evaluate(model, validation);
      log.valLoss = v.loss;
      log.valAccuracy = v.accuracy;
    }
    logs.push(log);
    opts.onEpoch?.(log);
  }
  return logs;
}

const trainableVariables = (model: tf.LayersModel) => model.trainableWeights.map((w) => w.read() as tf.Variable);

/** Trains from scratch (the baseline): sparse categorical cross-entropy, Adam unless `opts.optimizer` says otherwise. */
export async function train(model: tf.LayersModel, data: Split, opts: TrainOptions): Promise<EpochLog[]> {
  const smoothing = opts.optimizer?.labelSmoothing ?? 0;
  return fitLoop(
    model,
    data,
    opts,
    (x, y, training) => {
      const probs = forward(model, x, { training });
      return { loss: sparseCategoricalCrossEntropy(y, probs, smoothing), scores: probs };
    },
    trainableVariables(model),
  );
}

/**
 * Trains a compressed model while its constraints hold: masks after every step, fake-quantized
 * kernels and activations in the forward pass, optionally distilling from a teacher.
 */
export async function fineTune(model: tf.LayersModel, data: Split, opts: FineTuneOptions): Promise<EpochLog[]> {
  const fuse = opts.fuse ?? tf.getBackend() === NATIVE_BACKEND;
  const constrained = { kernelFor: opts.kernelFor, activationHook: opts.activationHook, fuse };
  const distill = opts.distill;
  const smoothing = opts.optimizer?.labelSmoothing ?? 0;
  return fitLoop(
    model,
    data,
    opts,
    (x, y, training) => {
      if (distill) {
        const logits = forward(model, x, { ...constrained, logits: true, training });
        // The teacher is a trained model being read, not trained: inference semantics.
        const teacher = forward(distill.teacher, x, { logits: true, fuse });
        return {
          loss: distillationLoss(y, logits, teacher, distill.temperature, distill.alpha, smoothing),
          scores: logits,
        };
      }
      const probs = forward(model, x, { ...constrained, training });
      return { loss: sparseCategoricalCrossEntropy(y, probs, smoothing), scores: probs };
    },
    opts.variables ?? trainableVariables(model),
  );
}
