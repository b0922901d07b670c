export {
  loadAddon,
  type Act,
  type Addon,
  type AddonLoad,
  type AdamParams,
  type BatchNormDims,
  type ConvDims,
  type MatMulDims,
  type PoolDims,
  type SgdParams,
} from './addon.js';
export { registerNativeBackend, NATIVE_BACKEND, NATIVE_KERNELS, type NativeRegistration } from './backend.js';
export { nativeAddon, nativeOptimizerKernels, type OptimizerKernels } from './optimizer_kernels.js';
export {
  depthwiseDims,
  depthwiseConv2dImpl,
  depthwiseConv2dBackpropFilterImpl,
  depthwiseConv2dBackpropInputImpl,
  type DepthwiseDims,
} from './kernels/depthwise.js';
export { convDims as convDimsOf } from './kernels/conv.js';
export { poolDims as poolDimsOf } from './kernels/pool.js';
