export { loadAddon, type Addon, type AddonLoad, type AdamParams, type SgdParams } from './addon.js';
export { registerNativeBackend, NATIVE_BACKEND, NATIVE_KERNELS, type NativeRegistration } from './backend.js';
export { createAdam, nativeOptimizerKernels, type OptimizerKernels } from './adam.js';
export {
  depthwiseDims,
  depthwiseConv2dBackpropFilterImpl,
  depthwiseConv2dBackpropInputImpl,
  type DepthwiseDims,
} from './kernels/depthwise.js';
