import type { PoolDims } from '../addon.js';
import { f32, type KernelArgs, type NativeKernel, type Tf } from './common.js';
import { allocate } from '../buffers.js';

type PoolInfo = ReturnType<Tf['backend_util']['computePool2DInfo']>;

/** The kernel's dimensions from tfjs' pool info (the trainer's compiled plan uses it too). */
export function poolDims(i: PoolInfo): PoolDims {
  return {
    batch: i.batchSize,
    inHeight: i.inHeight,
    inWidth: i.inWidth,
    channels: i.inChannels,
    outHeight: i.outHeight,
    outWidth: i.outWidth,
    filterHeight: i.filterHeight,
    filterWidth: i.filterWidth,
    strideHeight: i.strideHeight,
    strideWidth: i.strideWidth,
    padTop: i.padInfo.top,
    padBottom: i.padInfo.bottom,
    padLeft: i.padInfo.left,
    padRight: i.padInfo.right,
  };
}

/** Empty tensors (a zero-sized dimension) stay with cpu's kernels. */
const empty = (i: PoolInfo) => [...i.inShape, ...i.outShape].some((d) => d <= 0);

function poolInfo(tf: Tf, shape: number[], attrs: KernelArgs['attrs']): PoolInfo {
  return tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs!.filterSize as number,
    attrs!.strides as number,
    1,
    attrs!.pad as 'valid',
    attrs!.dimRoundingMode as 'floor',
  );
}

/** MaxPool (NHWC, no dilation); 1×1 windows with stride 1 are cpu's identity, left to it. */
export const maxPool: NativeKernel = (addon, { inputs, backend, attrs }, tf) => {
  const { x } = inputs;
  const xv = f32(backend, x);
  if (!x || !xv || x.shape.length !== 4) return undefined;
  const info = poolInfo(tf, x.shape, attrs);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || empty(info)) return undefined;
  const out = allocate(info.outShape.reduce((a, b) => a * b, 1));
  addon.maxPool(xv, out, poolDims(info));
  return backend.makeTensorInfo(info.outShape, 'float32', out);
};

/** MaxPoolGrad: each output's gradient goes to the first maximum of its window, as on cpu. */
export const maxPoolGrad: NativeKernel = (addon, { inputs, backend, attrs }, tf) => {
  const { dy, input } = inputs;
  const dyv = f32(backend, dy),
    xv = f32(backend, input);
  if (!dy || !input || !dyv || !xv || input.shape.length !== 4) return undefined;
  const info = poolInfo(tf, input.shape, attrs);
  if (empty(info)) return undefined;
  const out = allocate(xv.length);
  addon.maxPoolGrad(dyv, xv, out, poolDims(info));
  return backend.makeTensorInfo(input.shape, 'float32', out);
};
