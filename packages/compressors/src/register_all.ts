import { quantizeActivationsConfig } from './activation.js';
import { clipWeightsConfig } from './clip.js';
import { type Compressor, compressorRegistry } from './compressor.js';
import { pruneWeightsConfig } from './prune.js';
import { quantizeWeightsConfig } from './quantize.js';
import { pruneUnitsConfig } from './structured.js';

/**
 * Every compressor, in the order the schema lists them. A new one is a file exporting its config
 * (`createWeightCompressor` for a weight transform) plus its line here; the runner makes every
 * registered compressor a pipeline stage by its kind.
 */
const all: Compressor[] = [
  clipWeightsConfig,
  quantizeWeightsConfig,
  pruneWeightsConfig,
  quantizeActivationsConfig,
  pruneUnitsConfig,
];
for (const c of all) compressorRegistry.register(c.name, c);
