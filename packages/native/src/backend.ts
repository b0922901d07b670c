import { loadAddon, type Addon } from './addon.js';
import { recycleBuffers } from './buffers.js';
import type { CpuBackend, KernelArgs, KernelFunc, NativeKernel, Tf } from './kernels/common.js';
import { conv2D, conv2DBackpropFilter, conv2DBackpropInput, fusedConv2D } from './kernels/conv.js';
import { depthwiseConv2DBackpropFilter } from './kernels/depthwise.js';
import { batchMatMul, fusedMatMul } from './kernels/mat_mul.js';
import { maxPool, maxPoolGrad } from './kernels/pool.js';
import { sum } from './kernels/sum.js';

/** The tfjs backend name: tfjs' cpu backend (a second instance) with squash's C++ kernels. */
export const NATIVE_BACKEND = 'native';

/** The kernels the native backend replaces, by tfjs kernel name; every other kernel is cpu's. */
export const NATIVE_KERNELS: Record<string, NativeKernel> = {
  BatchMatMul: batchMatMul,
  _FusedMatMul: fusedMatMul,
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2DBackpropFilter,
  MaxPool: maxPool,
  MaxPoolGrad: maxPoolGrad,
  Sum: sum,
};

export type NativeRegistration = { ok: true; why: string; addon: Addon } | { ok: false; why: string };

let registered: NativeRegistration | undefined;

/**
 * Registers the `native` backend once: a new instance of tfjs' cpu backend class, every cpu kernel,
 * and the kernels above on top, each falling back to cpu's own for the cases it does not cover
 * (other dtypes, activations, broadcasts, data formats). Never throws; `why` says what runs or
 * why the addon is unavailable. Does not switch backends: call `tf.setBackend('native')`.
 */
export function registerNativeBackend(tf: Tf): NativeRegistration {
  if (registered) return registered;
  const load = loadAddon();
  if (!load.addon) return (registered = { ok: false, why: load.why });
  const addon = load.addon;
  try {
    const cpu = tf.engine().findBackend('cpu') as object | null;
    if (!cpu) return (registered = { ok: false, why: 'tfjs cpu backend unavailable' });
    const Ctor = cpu.constructor as new () => object;
    tf.registerBackend(
      NATIVE_BACKEND,
      () => {
        const backend = new Ctor();
        recycleBuffers(backend);
        return backend as never;
      },
      1,
    );
    const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k]));
    for (const k of cpuKernels.values()) {
      if (!(k.kernelName in NATIVE_KERNELS)) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
    }
    for (const [kernelName, native] of Object.entries(NATIVE_KERNELS)) {
      const fallback = cpuKernels.get(kernelName)?.kernelFunc as unknown as KernelFunc | undefined;
      const kernelFunc = (args: KernelArgs) => {
        const out = native(addon, args, tf);
        if (out) return out;
        if (!fallback) throw new Error(`native ${kernelName}: case not covered and cpu has no such kernel`);
        return fallback(args);
      };
      tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc: kernelFunc as never });
    }
    return (registered = { ok: true, why: load.why, addon });
  } catch (e) {
    return (registered = { ok: false, why: `native backend registration failed: ${(e as Error).message}` });
  }
}

export type { CpuBackend };
