import './register_all.js';

export { readIdx, parseIdx, type IdxArray, type IdxDtype } from './idx.js';
export {
  datasetRegistry,
  loadDataset,
  type Split,
  type Dataset,
  type DatasetSpec,
  type DatasetBuilder,
} from './dataset.js';
export { loadIdxDirectory } from './idx_dir.js';
