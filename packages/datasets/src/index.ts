import './register_all.js';

export { readIdx, parseIdx, type IdxArray, type IdxDtype } from './idx.js';
export {
  datasetRegistry,
  loadDataset,
  type Split,
  type Dataset,
  type DatasetSpec,
  type DatasetBuilder,
  type NumpyArrayNames,
} from './dataset.js';
export { parseNpy, type NpyArray, type NpyDtype } from './npy.js';
export { readNpz, readNpyDirectory, numpyDataset, ARRAY_ROLES } from './numpy_dataset.js';
export { loadCifarDirectory } from './cifar.js';
export { loadImageFolder } from './image_folder.js';
export { loadIdxDirectory } from './idx_dir.js';
export {
  applyNormalization,
  canonicalNormalize,
  channelsOf,
  normalizationOf,
  normalizeSplits,
  type Normalization,
  type NormalizeSpec,
  type NormalizeValue,
} from './normalize.js';
export {
  batchAugmenter,
  blackOf,
  canonicalAugment,
  imageLayout,
  moveSample,
  sampleMoves,
  type AugmentSpec,
  type BatchAugment,
  type BatchPlace,
  type ImageLayout,
  type SampleMoves,
} from './augment.js';
export {
  datasetFingerprint,
  fileSha256,
  identifiedByFiles,
  type DatasetContent,
  type DatasetFingerprint,
} from './fingerprint.js';
export { filesUnder } from './files.js';
