import type { Act, Addon, ConvDims } from '../addon.js';
import { activationCode, biasValues, f32, type KernelArgs, type NativeKernel, type Tf } from './common.js';
import { allocate } from '../buffers.js';

type ConvInfo = ReturnType<Tf['backend_util']['computeConv2DInfo']>;

/** The kernel's dimensions from tfjs' conv info (the trainer's compiled plan uses it too). */
export function convDims(i: ConvInfo): ConvDims {
  return {
    batch: i.batchSize,
    inHeight: i.inHeight,
    inWidth: i.inWidth,
    inChannels: i.inChannels,
    outHeight: i.outHeight,
    outWidth: i.outWidth,
    outChannels: i.outChannels,
    filterHeight: i.filterHeight,
    filterWidth: i.filterWidth,
    strideHeight: i.strideHeight,
    strideWidth: i.strideWidth,
    dilationHeight: i.dilationHeight,
    dilationWidth: i.dilationWidth,
    padTop: i.padInfo.top,
    padBottom: i.padInfo.bottom,
    padLeft: i.padInfo.left,
    padRight: i.padInfo.right,
  };
}

/** Empty tensors (a zero-sized dimension) stay with cpu's kernels. */
const empty = (i: ConvInfo) => [...i.inShape, ...i.outShape, ...i.filterShape].some((d) => d <= 0);

const channelsLast = (attrs: KernelArgs['attrs']) =>
  (attrs?.dataFormat ?? 'NHWC') === 'NHWC' || attrs?.dataFormat === 'channelsLast';

function conv(addon: Addon, { inputs, backend, attrs }: KernelArgs, tf: Tf, fused: boolean) {
  const { x, filter } = inputs;
  const xv = f32(backend, x),
    wv = f32(backend, filter);
  if (!x || !filter || !xv || !wv || x.shape.length !== 4 || !channelsLast(attrs)) return undefined;
  if (fused && inputs.preluActivationWeights) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs!.strides as number,
    (attrs!.dilations as number) ?? 1,
    attrs!.pad as 'valid',
    attrs!.dimRoundingMode as 'floor',
    false,
    'channelsLast',
  );
  if (empty(info)) return undefined;
  let act: Act = 0;
  let bias: Float32Array | null = null;
  if (fused) {
    const code = activationCode(attrs?.activation);
    const b = biasValues(backend, inputs.bias, info.outChannels);
    if (code === undefined || b === undefined) return undefined;
    act = code;
    bias = b;
  }
  const out = allocate(info.outShape.reduce((a, b) => a * b, 1));
  addon.conv2d(xv, wv, out, bias, act, convDims(info));
  return backend.makeTensorInfo(info.outShape, 'float32', out);
}

export const conv2D: NativeKernel = (addon, args, tf) => conv(addon, args, tf, false);
export const fusedConv2D: NativeKernel = (addon, args, tf) => conv(addon, args, tf, true);

export const conv2DBackpropInput: NativeKernel = (addon, { inputs, backend, attrs }, tf) => {
  const { dy, filter } = inputs;
  const dyv = f32(backend, dy),
    wv = f32(backend, filter);
  if (!dy || !filter || !dyv || !wv || !channelsLast(attrs)) return undefined;
  const inShape = attrs!.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inShape,
    filter.shape as [number, number, number, number],
    attrs!.strides as number,
    1,
    attrs!.pad as 'valid',
    attrs!.dimRoundingMode as 'floor',
    false,
    'channelsLast',
  );
  if (empty(info)) return undefined;
  const out = allocate(inShape.reduce((a, b) => a * b, 1));
  addon.conv2dBackpropInput(dyv, wv, out, convDims(info));
  return backend.makeTensorInfo(inShape, 'float32', out);
};

export const conv2DBackpropFilter: NativeKernel = (addon, { inputs, backend, attrs }, tf) => {
  const { x, dy } = inputs;
  const xv = f32(backend, x),
    dyv = f32(backend, dy);
  if (!x || !dy || !xv || !dyv || !channelsLast(attrs)) return undefined;
  const filterShape = attrs!.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs!.strides as number,
    1,
    attrs!.pad as 'valid',
    attrs!.dimRoundingMode as 'floor',
    false,
    'channelsLast',
  );
  if (empty(info)) return undefined;
  const out = allocate(filterShape.reduce((a, b) => a * b, 1));
  addon.conv2dBackpropFilter(xv, dyv, out, convDims(info));
  return backend.makeTensorInfo(filterShape, 'float32', out);
};
