import './register_all.js';

export { clipImpl } from './clip.js';
export { quantizeSymmetricImpl } from './quantize.js';
export { pruneByMagnitudeImpl } from './prune.js';
export { calibrateMinMax, fakeQuantizeImpl, fakeQuantizeInPlace, type Range } from './activation.js';
export { roundHalfAway } from './rounding.js';
export {
  compressorRegistry,
  type Params,
  type ParamSpec,
  type WeightStats,
  type WeightCompressor,
  type ActivationCompressor,
  type Compressor,
} from './compressor.js';
export { validateParams, assertValid, expected as describeParamSpec } from './params.js';
