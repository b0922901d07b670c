import {
  depthwiseConv2dBackpropFilterImpl,
  depthwiseConv2dBackpropInputImpl,
  depthwiseDims,
  type DepthwiseDims,
} from '@squash/native';
import { f32Offset, heapF32, replaceWasmKernel, type Tf, type TensorInfo, type WasmKernelFunc } from './wasm_heap.js';

function dimsOrThrow(tf: Tf, xShape: number[], filterShape: number[], attrs: object, kernel: string): DepthwiseDims {
  const dims = depthwiseDims(tf, xShape, filterShape, attrs as Record<string, unknown>);
  // tf.depthwiseConv2d's gradient refuses dilations > 1 before a kernel runs.
  if (!dims) throw new Error(`wasm ${kernel} supports dilations of 1 only`);
  return dims;
}

/** A view of a wasm tensor's float32 values (take it after the last allocation: the heap may grow). */
const view = (heap: Float32Array, backend: Parameters<typeof f32Offset>[0], t: TensorInfo, n: number) =>
  heap.subarray(f32Offset(backend, t), f32Offset(backend, t) + n);

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * tfjs-backend-wasm 4.22 has no DepthwiseConv2dNativeBackpropFilter, so training a depthwise or
 * separable convolution on wasm throws "Kernel not registered". This runs the native backend's
 * loop (cpu's arithmetic, bit-identical to it) over views of the wasm heap. A depthwise filter has
 * KH·KW·C·M elements, so the loop costs about as much as the forward convolution's per-pixel
 * work; no matrix product would make it cheaper.
 */
export function makeDepthwiseConv2dBackpropFilter(tf: Tf): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const filterShape = attrs.filterShape as number[];
    const dims = dimsOrThrow(tf, x.shape, filterShape, attrs, 'DepthwiseConv2dNativeBackpropFilter');
    const dw = backend.makeOutput(filterShape, 'float32');
    const heap = heapF32(backend);
    depthwiseConv2dBackpropFilterImpl(
      view(heap, backend, x, count(x.shape)),
      view(heap, backend, dy, count(dy.shape)),
      view(heap, backend, dw, count(filterShape)),
      dims,
    );
    return dw;
  };
}

/**
 * tfjs-backend-wasm 4.22 has no DepthwiseConv2dNativeBackpropInput either (every depthwise or
 * separable layer needs it unless it reads the model input): the same, for the input gradient.
 */
export function makeDepthwiseConv2dBackpropInput(tf: Tf): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const inputShape = attrs.inputShape as number[];
    const dims = dimsOrThrow(tf, inputShape, filter.shape, attrs, 'DepthwiseConv2dNativeBackpropInput');
    const dx = backend.makeOutput(inputShape, 'float32');
    const heap = heapF32(backend);
    depthwiseConv2dBackpropInputImpl(
      view(heap, backend, dy, count(dy.shape)),
      view(heap, backend, filter, count(filter.shape)),
      view(heap, backend, dx, count(inputShape)),
      dims,
    );
    return dx;
  };
}

/** Registers both kernels for the wasm backend; false if already registered. */
export function registerWasmDepthwiseConv2dBackprop(tf: Tf): { filter: boolean; input: boolean } {
  return {
    filter: replaceWasmKernel(tf, 'DepthwiseConv2dNativeBackpropFilter', makeDepthwiseConv2dBackpropFilter(tf)),
    input: replaceWasmKernel(tf, 'DepthwiseConv2dNativeBackpropInput', makeDepthwiseConv2dBackpropInput(tf)),
  };
}
