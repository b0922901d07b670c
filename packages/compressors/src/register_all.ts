import { quantizeActivationsConfig } from './activation.js';
import { clipWeightsConfig } from './clip.js';
import { type Compressor, compressorRegistry } from './compressor.js';
import { pruneWeightsConfig } from './prune.js';
import { quantizeWeightsConfig } from './quantize.js';
import { pruneUnitsConfig } from './structured.js';

/** Every compressor, in the order experiment files and the schema list them. */
const all: Compressor[] = [
  clipWeightsConfig,
  quantizeWeightsConfig,
  pruneWeightsConfig,
  quantizeActivationsConfig,
  pruneUnitsConfig,
];
for (const c of all) compressorRegistry.register(c.name, c);
