import type * as tfType from '@tensorflow/tfjs';
import type { Act, Addon } from '../addon.js';

export type Tf = typeof tfType;
export type TensorInfo = tfType.TensorInfo;

/** The slice of tfjs-backend-cpu's MathBackendCPU the kernels use. */
export interface CpuBackend {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values?: Float32Array): TensorInfo;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: CpuBackend;
  attrs?: Record<string, unknown>;
}

export type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** A native kernel: returns undefined for cases it does not cover, which then run on cpu's kernel. */
export type NativeKernel = (addon: Addon, args: KernelArgs, tf: Tf) => TensorInfo | undefined;

/** The float32 values behind a tensor of the cpu-class backend, or undefined for other dtypes. */
export function f32(backend: CpuBackend, t: TensorInfo | undefined): Float32Array | undefined {
  if (t?.dtype !== 'float32') return undefined;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : undefined;
}

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Activations the native kernels fuse: 0 none, 1 relu. */
export function activationCode(activation: unknown): Act | undefined {
  if (activation === undefined || activation === null || activation === 'linear') return 0;
  if (activation === 'relu') return 1;
  return undefined;
}

/** A bias the native epilogue can add: one value per output channel, or a single value. */
export function biasValues(
  backend: CpuBackend,
  bias: TensorInfo | undefined,
  channels: number,
): Float32Array | null | undefined {
  if (!bias) return null;
  const v = f32(backend, bias);
  if (!v) return undefined;
  const n = size(bias.shape);
  if (n === 1) return v;
  if (n === channels && bias.shape[bias.shape.length - 1] === channels) return v;
  return undefined;
}
