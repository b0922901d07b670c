import type { Act, Addon } from '../addon.js';
import {
  activationCode,
  biasValues,
  f32,
  size,
  type KernelArgs,
  type NativeKernel,
  type TensorInfo,
} from './common.js';
import { allocate } from '../buffers.js';

/**
 * BatchMatMul and _FusedMatMul (bias + relu in the epilogue) on float32 operands of rank ≥ 2 whose
 * batch dimensions are equal or one side's are all 1 (other broadcasts fall back to cpu).
 */
function matMul(addon: Addon, { inputs, backend, attrs }: KernelArgs, fused: boolean): TensorInfo | undefined {
  const { a, b } = inputs;
  const av = f32(backend, a),
    bv = f32(backend, b);
  if (!a || !b || !av || !bv || a.shape.length < 2 || b.shape.length < 2) return undefined;
  if (av.length === 0 || bv.length === 0) return undefined; // empty operands: cpu's kernel
  if (fused && inputs.preluActivationWeights) return undefined;
  const transA = !!attrs?.transposeA,
    transB = !!attrs?.transposeB;
  const ra = a.shape.length,
    rb = b.shape.length;
  const M = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const K2 = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (K !== K2) return undefined; // cpu's kernel reports the shape error
  const batchShapeA = a.shape.slice(0, -2),
    batchShapeB = b.shape.slice(0, -2);
  const batchA = size(batchShapeA),
    batchB = size(batchShapeB);
  let outBatch: number[];
  if (batchA === batchB && (batchShapeA.join() === batchShapeB.join() || ra === 2 || rb === 2))
    outBatch = ra >= rb ? batchShapeA : batchShapeB;
  else if (batchB === 1) outBatch = batchShapeA;
  else if (batchA === 1) outBatch = batchShapeB;
  else return undefined;
  const batch = Math.max(batchA, batchB);
  let act: Act = 0;
  let bias: Float32Array | null = null;
  if (fused) {
    const code = activationCode(attrs?.activation);
    const bv2 = biasValues(backend, inputs.bias, N);
    if (code === undefined || bv2 === undefined) return undefined;
    act = code;
    bias = bv2;
  }
  const out = allocate(batch * M * N);
  addon.matMul(av, bv, out, bias, act, {
    batch,
    m: M,
    k: K,
    n: N,
    transposeA: transA,
    transposeB: transB,
    aBatchStride: batchA === 1 ? 0 : M * K,
    bBatchStride: batchB === 1 ? 0 : K * N,
  });
  return backend.makeTensorInfo([...outBatch, M, N], 'float32', out);
}

export const batchMatMul: NativeKernel = (addon, args) => matMul(addon, args, false);
export const fusedMatMul: NativeKernel = (addon, args) => matMul(addon, args, true);
