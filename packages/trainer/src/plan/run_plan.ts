import * as tf from '@tensorflow/tfjs';
import type { Addon } from '@squash/backend';
import { ArrayOptimizer } from '../optim/optimizer.js';
import type { OptimizerSettings } from '../optim/settings.js';
import { compileModel, type CompileOptions, type CompiledModel } from './compile.js';
import { softmaxCrossEntropy, type LossResult } from './loss.js';
import type { PlanContext } from './node.js';
import { Scratch, gradOf, valuesOf } from './slots.js';

/** A compiled model with its memory: runs forward and backward passes, moves weights to and from tfjs. */
class PlanMachine {
  readonly scratch = new Scratch();
  constructor(
    readonly c: CompiledModel,
    readonly addon: Addon,
  ) {}

  /** The model's current weights into the plan. */
  pull(): void {
    for (const m of this.c.masters) m.values.set(m.variable.dataSync() as Float32Array);
    for (const s of this.c.stored) s.values.set(s.variable.dataSync() as Float32Array);
  }

  /** The plan's trained weights (and batch norm's moving statistics) back into the model's variables. */
  push(): void {
    tf.tidy(() => {
      for (const m of this.c.masters) m.variable.assign(tf.tensor(m.values.slice(), m.variable.shape));
      for (const s of this.c.stored) if (s.pushed) s.variable.assign(tf.tensor(s.values.slice(), s.variable.shape));
    });
  }

  forward(n: number, ctx: PlanContext): void {
    this.c.prepare();
    for (const node of this.c.nodes) node.forward(n, ctx);
  }
}

/** Inference through the plan (evaluation at large batches, a distillation teacher). */
export class InferencePlan extends PlanMachine {
  static compile(model: tf.LayersModel, addon: Addon, maxBatch: number): InferencePlan {
    return new InferencePlan(compileModel(model, { maxBatch }), addon);
  }

  /** The logits of the first n samples written into `input()`. */
  logits(n: number): Float32Array {
    this.forward(n, { addon: this.addon, scratch: this.scratch, training: false, seed: 0, step: 0 });
    return valuesOf(this.c.logits, n);
  }

  input(): Float32Array {
    return this.c.input.y;
  }
}

export interface PlanStep {
  n: number;
  learningRate: number;
  seed: number;
  step: number;
  labelSmoothing: number;
  distill?: { teacher: InferencePlan; temperature: number; alpha: number };
}

/**
 * One training step as one pass over preallocated memory: forward, the fused loss from logits,
 * backward, the optimizer, batch norm's moving averages. No tfjs tensor is made per step.
 */
export class TrainPlan extends PlanMachine {
  readonly labels: Int32Array;
  private readonly optimizer: ArrayOptimizer;

  private constructor(c: CompiledModel, addon: Addon, settings: Partial<OptimizerSettings>) {
    super(c, addon);
    this.labels = new Int32Array(c.input.y.length / c.input.size);
    this.optimizer = new ArrayOptimizer(c.masters.length, settings);
  }

  static compile(
    model: tf.LayersModel,
    addon: Addon,
    opts: CompileOptions & { optimizer?: Partial<OptimizerSettings> },
  ): TrainPlan {
    return new TrainPlan(compileModel(model, opts), addon, opts.optimizer ?? {});
  }

  /** The batch's inputs go here (n × the input's per-sample size). */
  input(): Float32Array {
    return this.c.input.y;
  }

  step(s: PlanStep): LossResult {
    const { c } = this;
    const ctx: PlanContext = { addon: this.addon, scratch: this.scratch, training: true, seed: s.seed, step: s.step };
    this.forward(s.n, ctx);
    let distill;
    if (s.distill) {
      const t = s.distill.teacher;
      t.input().set(valuesOf(c.input, s.n));
      distill = { teacher: t.logits(s.n), temperature: s.distill.temperature, alpha: s.distill.alpha };
    }
    for (const node of c.nodes) node.out.written = 0;
    (c.logits.base ?? c.logits).written = 1;
    const result = softmaxCrossEntropy(
      valuesOf(c.logits, s.n),
      this.labels,
      s.n,
      c.classes,
      s.labelSmoothing,
      gradOf(c.logits, s.n),
      distill,
    );
    for (let i = c.nodes.length - 1; i >= 0; i--) {
      const node = c.nodes[i]!;
      if (node.out.dy) node.backward(s.n, ctx);
    }
    c.reduceGrads();
    this.optimizer.step(
      c.masters,
      c.masters.map((m) => m.grad),
      s.learningRate,
    );
    for (const node of c.nodes) node.afterStep?.();
    return result;
  }
}
