import type * as tfTypes from '@tensorflow/tfjs';

export type TensorInfo = tfTypes.TensorInfo;

/** What the kernel overrides need from the tfjs namespace (passed in, so core has one tfjs instance). */
export type Tf = Pick<typeof tfTypes, 'getKernel' | 'unregisterKernel' | 'registerKernel' | 'backend_util'>;

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use (the package exports no type for them). */
export interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: object): boolean;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackend;
  attrs: any; // tfjs passes a NamedAttrMap; each kernel reads its own attributes
}
export type WasmKernelFunc = (args: KernelArgs) => TensorInfo;

/**
 * A Float32Array over the whole wasm heap. Any allocation (makeOutput, a kernel call) may grow the
 * heap and detach earlier views, so take a fresh one after the last allocation and index it with
 * {@link f32Offset}.
 */
export function heapF32(backend: WasmBackend): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8.buffer);
}

/** Index of a tensor's first element in {@link heapF32}. */
export function f32Offset(backend: WasmBackend, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('wasm kernel: tensor is not on the wasm backend');
  return data.memoryOffset >>> 2;
}

/** A float32 copy of `rows` rows of `width` elements from row `from` of a tensor (for batch chunks). */
export function copyRows(
  backend: WasmBackend,
  t: TensorInfo,
  from: number,
  rows: number,
  width: number,
  shape: number[],
): TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  const heap = heapF32(backend);
  const src = f32Offset(backend, t) + from * width;
  heap.copyWithin(f32Offset(backend, out), src, src + rows * width);
  return out;
}

/** The kernel a squash override replaced (undefined when the backend had none), kept for tests. */
export function replacedKernel(tf: Pick<Tf, 'getKernel'>, kernelName: string): tfTypes.KernelConfig | undefined {
  return (tf.getKernel(kernelName, 'wasm') as unknown as { replaced?: tfTypes.KernelConfig } | undefined)?.replaced;
}

/** True when the wasm kernel registered under this name is one of ours. */
export function isSquashKernel(tf: Pick<Tf, 'getKernel'>, kernelName: string): boolean {
  return (tf.getKernel(kernelName, 'wasm') as unknown as { squash?: boolean } | undefined)?.squash === true;
}

/**
 * Registers `kernelFunc` for the wasm backend under `kernelName`, replacing any kernel already
 * there. A `squash: true` marker makes a second call a no-op (returns false). The replaced kernel's
 * setupFunc is kept: the backend ran it at initialisation and it may bind wasm functions others use.
 */
export function replaceWasmKernel(tf: Tf, kernelName: string, kernelFunc: WasmKernelFunc): boolean {
  const original = tf.getKernel(kernelName, 'wasm');
  if ((original as { squash?: boolean } | undefined)?.squash) return false;
  if (original) tf.unregisterKernel(kernelName, 'wasm');
  const config = {
    kernelName,
    backendName: 'wasm',
    setupFunc: original?.setupFunc,
    squash: true,
    replaced: original,
    kernelFunc,
  };
  tf.registerKernel(config as unknown as tfTypes.KernelConfig);
  return true;
}
