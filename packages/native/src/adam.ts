import type * as tfType from '@tensorflow/tfjs';
import type { Addon } from './addon.js';
import { allocate } from './buffers.js';
import { NATIVE_BACKEND, registerNativeBackend } from './backend.js';
import { f32, type CpuBackend, type Tf } from './kernels/common.js';

type Moments = { m: Float32Array; v: Float32Array };
type Grads = Parameters<tfType.AdamOptimizer['applyGradients']>[0];

/**
 * tfjs' Adam with the update fused into one C++ loop per variable on the native backend (tfjs runs
 * ~10 elementwise kernels per variable per step, each allocating a tensor). Same arithmetic in
 * float32 and the same order; on any other backend it is tfjs' own AdamOptimizer.
 */
export function createAdam(tf: Tf, learningRate: number, beta1 = 0.9, beta2 = 0.999): tfType.Optimizer {
  if (tf.getBackend() !== NATIVE_BACKEND) return tf.train.adam(learningRate, beta1, beta2);
  const reg = registerNativeBackend(tf);
  if (!reg.ok) return tf.train.adam(learningRate, beta1, beta2);
  return new (fusedAdamClass(tf))(reg.addon, learningRate, beta1, beta2) as unknown as tfType.Optimizer;
}

/** The fused optimizer updates: one C++ loop per variable per step over its float32 values. */
export type OptimizerKernels = Pick<Addon, 'adam' | 'sgd'>;

/**
 * The fused optimizer kernels when the native backend is tfjs' active backend (its tensors' values
 * are then plain Float32Arrays the kernels can update); undefined on any other backend or when the
 * addon is not loaded, where an optimizer runs on tfjs ops instead.
 */
export function nativeOptimizerKernels(tf: Tf): OptimizerKernels | undefined {
  if (tf.getBackend() !== NATIVE_BACKEND) return undefined;
  const reg = registerNativeBackend(tf);
  return reg.ok ? reg.addon : undefined;
}

function fusedAdamClass(tf: Tf) {
  return class FusedAdam extends tf.AdamOptimizer {
    private readonly moments: Moments[] = [];
    private acc1: number;
    private acc2: number;
    constructor(
      private readonly addon: Addon,
      learningRate: number,
      beta1: number,
      beta2: number,
    ) {
      super(learningRate, beta1, beta2, undefined);
      this.acc1 = Math.fround(beta1);
      this.acc2 = Math.fround(beta2);
    }

    override applyGradients(variableGradients: Grads): void {
      if (tf.getBackend() !== NATIVE_BACKEND) return super.applyGradients(variableGradients);
      const names = Array.isArray(variableGradients)
        ? variableGradients.map((v) => v.name)
        : Object.keys(variableGradients);
      const backend = tf.backend() as unknown as CpuBackend;
      const fr = Math.fround;
      const b1 = fr(this.beta1),
        b2 = fr(this.beta2);
      const c1 = fr(1 - this.acc1),
        c2 = fr(1 - this.acc2);
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        const gradient = Array.isArray(variableGradients)
          ? variableGradients[i]!.tensor
          : (variableGradients as Record<string, tfType.Tensor | undefined>)[name];
        if (!gradient) return;
        const w = f32(backend, value),
          g = f32(backend, gradient);
        if (!w || !g) throw new Error(`FusedAdam: ${name} is not a float32 tensor on the native backend`);
        const mom = (this.moments[i] ??= { m: new Float32Array(w.length), v: new Float32Array(w.length) });
        const out = allocate(w.length);
        this.addon.adam(w, g, mom.m, mom.v, out, {
          learningRate: fr(this.learningRate),
          beta1: b1,
          oneMinusBeta1: fr(1 - this.beta1),
          beta2: b2,
          oneMinusBeta2: fr(1 - this.beta2),
          epsilon: fr(this.epsilon),
          oneMinusBeta1Power: c1,
          oneMinusBeta2Power: c2,
          weightDecay: 0,
          decoupled: 0,
          gradScale: 1,
        });
        const next = tf.tensor(out, value.shape, 'float32');
        value.assign(next);
        next.dispose();
      });
      this.acc1 = fr(this.acc1 * b1);
      this.acc2 = fr(this.acc2 * b2);
      this.incrementIterations();
    }
  };
}
