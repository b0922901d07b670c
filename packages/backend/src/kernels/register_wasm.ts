import { registerWasmBatchMatMul } from './batch_mat_mul_wasm.js';
import { registerWasmConv2DBackpropFilter } from './conv2d_backprop_filter_wasm.js';
import { registerWasmConv2DBackpropInput } from './conv2d_backprop_input_wasm.js';
import { registerWasmDepthwiseConv2dBackprop } from './depthwise_conv2d_backprop_wasm.js';
import { registerWasmMaxPoolGrad } from './max_pool_grad_wasm.js';
import type { Tf } from './wasm_heap.js';

/** The wasm kernels squash replaces or adds, by tfjs kernel name. */
export const SQUASH_WASM_KERNELS = [
  'BatchMatMul',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'MaxPoolGrad',
] as const;

/**
 * Fixes tfjs-backend-wasm 4.22 for training (see each kernel's file): adds the missing
 * Conv2DBackpropFilter and depthwise convolution gradients (DepthwiseConv2dNativeBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput), replaces the wrong MaxPoolGrad, and routes BatchMatMul with
 * transposes and Conv2DBackpropInput to XNNPACK. Call after `tf.setBackend('wasm')`; calling again is a no-op.
 * Returns the names registered by this call.
 */
export function registerWasmKernels(tf: Tf): string[] {
  const registered: string[] = [];
  if (registerWasmBatchMatMul(tf)) registered.push('BatchMatMul');
  if (registerWasmConv2DBackpropFilter(tf)) registered.push('Conv2DBackpropFilter');
  if (registerWasmConv2DBackpropInput(tf)) registered.push('Conv2DBackpropInput');
  const depthwise = registerWasmDepthwiseConv2dBackprop(tf);
  if (depthwise.filter) registered.push('DepthwiseConv2dNativeBackpropFilter');
  if (depthwise.input) registered.push('DepthwiseConv2dNativeBackpropInput');
  if (registerWasmMaxPoolGrad(tf)) registered.push('MaxPoolGrad');
  return registered;
}
