import type * as tfType from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { nativeOptimizerKernels } from '@squash/backend';
import { adamUpdate, clipScale, sgdUpdate, type AdamStep, type SgdStep } from './update.js';
import { resolveOptimizerSettings, type OptimizerSettings } from './settings.js';

/** The per-variable update kernels: the native addon's on the native backend, else the JS loops. */
interface UpdateKernels {
  adam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array, p: AdamStep): void;
  sgd(w: Float32Array, g: Float32Array, buf: Float32Array, out: Float32Array, p: SgdStep): void;
}

const JS_KERNELS: UpdateKernels = { adam: adamUpdate, sgd: sgdUpdate };

/**
 * The float32 values of a tensor. On cpu and native, `dataSync` hands back the backend's own array
 * (no copy), which the kernels read in place; on wasm it is a copy.
 */
const values = (t: tfType.Tensor): Float32Array => t.dataSync() as Float32Array;

/** One trained array: its values (updated in place), and where a weight is kept (1) when masked. */
export interface TrainedArray {
  values: Float32Array;
  mask?: Uint8Array;
}

/**
 * The optimizer over a fixed list of float32 arrays: `step` updates each in place with its
 * gradient and this step's learning rate, then writes 0 where its mask is 0. One loop per array
 * (one native call on the native backend) instead of tfjs' ~10 elementwise ops, each allocating a
 * tensor. The compiled training plan owns its arrays; `TrainingOptimizer` wraps tfjs variables.
 */
export class ArrayOptimizer {
  private readonly settings: OptimizerSettings;
  private readonly kernels: UpdateKernels;
  private readonly state: Array<{ a: Float32Array; b: Float32Array } | undefined>;
  /** β1ᵗ and β2ᵗ kept in float32, as tfjs' Adam keeps them in tensors. */
  private acc1: number;
  private acc2: number;

  constructor(
    private readonly count: number,
    written: Partial<OptimizerSettings> = {},
  ) {
    this.settings = resolveOptimizerSettings(written);
    this.kernels = nativeOptimizerKernels(tf) ?? JS_KERNELS;
    this.state = Array.from({ length: count }, () => undefined);
    this.acc1 = Math.fround(this.settings.beta1);
    this.acc2 = Math.fround(this.settings.beta2);
  }

  /**
   * One update: `arrays[i]` (its values read, and written to `out[i]`, which may be the values
   * themselves) with gradient `grads[i]` (undefined = no gradient, left as is).
   */
  step(
    arrays: readonly TrainedArray[],
    grads: ReadonlyArray<Float32Array | undefined>,
    learningRate: number,
    out: readonly Float32Array[] = arrays.map((a) => a.values),
  ): void {
    if (arrays.length !== this.count) throw new Error(`optimizer: ${arrays.length} arrays, built for ${this.count}`);
    const s = this.settings;
    const scale = clipScale(
      grads.filter((g): g is Float32Array => !!g),
      s.gradClipNorm,
    );
    const fr = Math.fround;
    const adam: AdamStep | undefined =
      s.optimizer === 'sgd'
        ? undefined
        : {
            learningRate,
            beta1: s.beta1,
            oneMinusBeta1: fr(1 - s.beta1),
            beta2: s.beta2,
            oneMinusBeta2: fr(1 - s.beta2),
            epsilon: s.epsilon,
            oneMinusBeta1Power: fr(1 - this.acc1),
            oneMinusBeta2Power: fr(1 - this.acc2),
            weightDecay: s.weightDecay,
            decoupled: s.optimizer === 'adamw' ? 1 : 0,
            gradScale: scale,
          };
    const sgd: SgdStep = {
      learningRate,
      momentum: s.momentum,
      nesterov: s.nesterov ? 1 : 0,
      weightDecay: s.weightDecay,
      gradScale: scale,
    };
    arrays.forEach(({ values: w, mask }, i) => {
      const g = grads[i];
      if (!g) return;
      const o = out[i]!;
      if (adam) {
        const st = (this.state[i] ??= { a: new Float32Array(w.length), b: new Float32Array(w.length) });
        this.kernels.adam(w, g, st.a, st.b, o, adam);
      } else {
        const st = (this.state[i] ??= { a: new Float32Array(s.momentum ? w.length : 0), b: new Float32Array(0) });
        this.kernels.sgd(w, g, st.a, o, sgd);
      }
      if (mask) for (let j = 0; j < o.length; j++) if (!mask[j]) o[j] = 0;
    });
    this.acc1 = fr(this.acc1 * fr(s.beta1));
    this.acc2 = fr(this.acc2 * fr(s.beta2));
  }
}

/** The optimizer over tfjs variables (the autograd path): each step assigns each variable its update. */
export class TrainingOptimizer {
  private readonly core: ArrayOptimizer;
  private readonly masks: Array<Uint8Array | undefined>;

  /** `masks`: variable → 1 where a weight is kept; the others are written as 0 after every update. */
  constructor(
    private readonly variables: tfType.Variable[],
    written: Partial<OptimizerSettings> = {},
    masks: ReadonlyMap<tfType.Variable, Uint8Array> = new Map(),
  ) {
    this.masks = variables.map((v) => masks.get(v));
    this.core = new ArrayOptimizer(variables.length, written);
  }

  /** Applies gradients (one per variable, in the constructor's order; undefined = no gradient). */
  step(grads: Array<tfType.Tensor | undefined>, learningRate: number): void {
    const arrays = this.variables.map((v, i) => ({ values: values(v), mask: this.masks[i] }));
    const out = arrays.map((a) => new Float32Array(a.values.length));
    this.core.step(
      arrays,
      grads.map((g) => (g ? values(g) : undefined)),
      learningRate,
      out,
    );
    this.variables.forEach((variable, i) => {
      if (!grads[i]) return;
      const next = tf.tensor(out[i]!, variable.shape, 'float32');
      variable.assign(next);
      next.dispose();
    });
  }
}
