import type { Addon } from './addon.js';
import { NATIVE_BACKEND, registerNativeBackend } from './backend.js';
import type { Tf } from './kernels/common.js';

/** The fused optimizer updates: one C++ loop per variable per step over its float32 values. */
export type OptimizerKernels = Pick<Addon, 'adam' | 'sgd'>;

/**
 * The fused optimizer kernels when the native backend is tfjs' active backend (its tensors' values
 * are then plain Float32Arrays the kernels can update); undefined on any other backend or when the
 * addon is not loaded, where the trainer runs the same update as a JavaScript loop.
 */
export function nativeOptimizerKernels(tf: Tf): OptimizerKernels | undefined {
  if (tf.getBackend() !== NATIVE_BACKEND) return undefined;
  const reg = registerNativeBackend(tf);
  return reg.ok ? reg.addon : undefined;
}

/**
 * The whole addon when the native backend is tfjs' active backend: the trainer's compiled training
 * plan calls its kernels directly on its own Float32Arrays, without tfjs tensors in between.
 */
export function nativeAddon(tf: Tf): Addon | undefined {
  if (tf.getBackend() !== NATIVE_BACKEND) return undefined;
  const reg = registerNativeBackend(tf);
  return reg.ok ? reg.addon : undefined;
}
