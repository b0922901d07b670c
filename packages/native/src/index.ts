export { loadAddon, type Addon, type AddonLoad, type AdamParams, type SgdParams } from './addon.js';
export { registerNativeBackend, NATIVE_BACKEND, NATIVE_KERNELS, type NativeRegistration } from './backend.js';
export { nativeOptimizerKernels, type OptimizerKernels } from './optimizer_kernels.js';
export {
  depthwiseDims,
  depthwiseConv2dBackpropFilterImpl,
  depthwiseConv2dBackpropInputImpl,
  type DepthwiseDims,
} from './kernels/depthwise.js';
