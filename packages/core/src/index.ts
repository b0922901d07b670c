export * from './errors.js';
export { createRng, type Rng } from './rng.js';
export { canonicalJson, stableHash, sha256Hex, type Json } from './hash.js';
export { writeFileAtomic } from './files.js';
export { createRegistry, type Registry } from './registry.js';
export type { WeightTensor, WeightMap, MetricRecord, ParamValue } from './types.js';
export { editDistance, didYouMean } from './suggest.js';
export { SQUASH_VERSION } from './version.js';
