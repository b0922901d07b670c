export * from './errors.js';
export { createRng, type Rng } from './rng.js';
export { canonicalJson, stableHash, type Json } from './hash.js';
export { createRegistry, type Registry } from './registry.js';
export {
  selectBackend,
  backendPreference,
  currentBackend,
  BACKEND_PREFERENCES,
  type BackendChoice,
  type BackendPreference,
} from './backend.js';
export { registerWasmKernels, SQUASH_WASM_KERNELS } from './kernels/register_wasm.js';
export { createAdam, NATIVE_KERNELS } from '@squash/native';
export type { WeightTensor, WeightMap, MetricRecord, ParamValue } from './types.js';
export { editDistance, didYouMean } from './suggest.js';
export { SQUASH_VERSION } from './version.js';
