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

/**
 * One optimizer over a fixed list of variables: `step` applies one update with this step's
 * learning rate. The whole update of a variable is one loop (one native call on the native
 * backend) instead of tfjs' ~10 elementwise ops, each allocating a tensor.
 */
export class TrainingOptimizer {
  private readonly settings: OptimizerSettings;
  private readonly kernels: UpdateKernels;
  private readonly state: Array<{ a: Float32Array; b: Float32Array } | undefined>;
  /** β1ᵗ and β2ᵗ kept in float32, as tfjs' Adam keeps them in tensors. */
  private acc1: number;
  private acc2: number;

  private readonly masks: Array<Uint8Array | undefined>;

  /** `masks`: variable → 1 where a weight is kept; the others are written as 0 after every update. */
  constructor(
    private readonly variables: tfType.Variable[],
    written: Partial<OptimizerSettings> = {},
    masks: ReadonlyMap<tfType.Variable, Uint8Array> = new Map(),
  ) {
    this.masks = variables.map((v) => masks.get(v));
    this.settings = resolveOptimizerSettings(written);
    this.kernels = nativeOptimizerKernels(tf) ?? JS_KERNELS;
    this.state = variables.map(() => undefined);
    this.acc1 = Math.fround(this.settings.beta1);
    this.acc2 = Math.fround(this.settings.beta2);
  }

  /** Applies gradients (one per variable, in the constructor's order; undefined = no gradient). */
  step(grads: Array<tfType.Tensor | undefined>, learningRate: number): void {
    const s = this.settings;
    const gs = grads.map((g) => (g ? values(g) : undefined));
    const scale = clipScale(
      gs.filter((g): g is Float32Array => !!g),
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
    this.variables.forEach((variable, i) => {
      const g = gs[i];
      if (!g) return;
      const w = values(variable);
      const out = new Float32Array(w.length);
      if (adam) {
        const st = (this.state[i] ??= { a: new Float32Array(w.length), b: new Float32Array(w.length) });
        this.kernels.adam(w, g, st.a, st.b, out, adam);
      } else {
        const st = (this.state[i] ??= { a: new Float32Array(s.momentum ? w.length : 0), b: new Float32Array(0) });
        this.kernels.sgd(w, g, st.a, out, sgd);
      }
      const mask = this.masks[i];
      if (mask) for (let j = 0; j < out.length; j++) if (!mask[j]) out[j] = 0;
      const next = tf.tensor(out, variable.shape, 'float32');
      variable.assign(next);
      next.dispose();
    });
    this.acc1 = fr(this.acc1 * fr(s.beta1));
    this.acc2 = fr(this.acc2 * fr(s.beta2));
  }
}
