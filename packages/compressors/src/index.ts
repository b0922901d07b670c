import './register_all.js';

// One file per compressor: its pure `…Impl` over typed arrays and its `…Config` (register_all.ts lists them).
export { clipImpl, clipWeightsConfig } from './clip.js';
export { quantizeWeightsConfig } from './quantize.js';
export { pruneByMagnitudeImpl, pruneWeightsConfig } from './prune.js';
export { pruneUnitsConfig } from './structured.js';
export {
  calibrateMinMax,
  calibratePercentile,
  calibrateMovingAverage,
  fakeQuantizeImpl,
  fakeQuantizeInPlace,
  quantizeActivationsConfig,
  type Range,
} from './activation.js';
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
export { validateParams, assertValid, expected as describeParamSpec, withDefaults, withoutDefaults } from './params.js';
export { BitReader, BitWriter } from './encoding/bitstream.js';
export {
  huffmanCodeLengths,
  canonicalCodes,
  huffmanEncode,
  huffmanDecode,
  writeCodeLengths,
  readCodeLengths,
} from './encoding/huffman.js';
export { encodeRelativeIndices, decodeRelativeIndices, type RelativeIndices } from './encoding/relative_index.js';
export {
  writeArtifact,
  readArtifact,
  ArtifactError,
  ARTIFACT_MAGIC,
  ARTIFACT_VERSION,
  type ArtifactLayer,
  type LayerBytes,
  type LayerEncoding,
} from './encoding/artifact.js';
export {
  measureEncodings,
  bestIndexBits,
  INDEX_BITS_CANDIDATES,
  type EncodingSizes,
  type MeasuredLayer,
} from './encoding/sizes.js';
export type { ApplyContext, WeightResult, StructureCompressor } from './compressor.js';
export { QUANT_SCHEMES, OUTPUT_AXIS, type QuantScheme, type QuantizedTensor } from './quantized_tensor.js';
export {
  quantizeTensor,
  dequantize,
  codebookFromParams,
  bitsForLevels,
  SCHEME_BITS,
  KMEANS_MAX_ITERATIONS,
  quantizeSymmetric,
  quantizeAsymmetric,
  quantizePow2,
  quantizeKmeans,
  quantizeBinary,
  quantizeTernary,
  type QuantizeOptions,
} from './quant/index.js';
export { pruneGlobalByMagnitude } from './prune.js';
export { unitNorms, selectUnitsByNorm } from './structured.js';
export {
  PolynomialDecay,
  IterativeRetention,
  scheduleFromJSON,
  validateSchedule,
  SCHEDULE_KINDS,
  type PruningSchedule,
  type PolynomialDecayConfig,
} from './schedules/index.js';
export {
  quantizeForTfjs,
  dequantizeTfjs,
  TFJS_QUANT_DTYPES,
  type TfjsQuantDtype,
  type TfjsQuantization,
  type TfjsQuantizedWeight,
} from './tfjs_quantization.js';
export { float16Bits, float16Value } from './float16.js';
