export {
  selectBackend,
  backendPreference,
  currentBackend,
  BACKEND_PREFERENCES,
  type BackendChoice,
  type BackendPreference,
} from './backend.js';
export { registerWasmKernels, SQUASH_WASM_KERNELS } from './kernels/register_wasm.js';
export {
  NATIVE_BACKEND,
  NATIVE_KERNELS,
  nativeOptimizerKernels,
  nativeAddon,
  depthwiseConv2dImpl,
  depthwiseConv2dBackpropFilterImpl,
  depthwiseConv2dBackpropInputImpl,
  depthwiseDims,
  type Addon,
  type BatchNormDims,
  type DepthwiseDims,
  type MatMulDims,
  type ConvDims,
  type PoolDims,
  type AdamParams,
  type OptimizerKernels,
  type SgdParams,
} from '@squash/native';
