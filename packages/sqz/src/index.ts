export * from './format/index.js';
export * from './model/spec.js';
export { type ActivationQuant, SquashFakeQuant } from './model/fake_quant.js';
export {
  buildLayersModel,
  createLayer,
  type BuildOptions,
  type Initializer,
  type KernelRole,
  type LayerExtra,
} from './model/layers.js';
export { decodeSqz, loadSqz, type SqzModelInfo } from './model/decode.js';
