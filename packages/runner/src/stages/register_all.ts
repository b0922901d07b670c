import { compressorRegistry } from '@squash/compressors';
import { compressorStage } from './compressor_stage.js';
import { distillConfig } from './distill.js';
import { finetuneConfig } from './finetune.js';
import { huffmanConfig } from './huffman.js';
import { pruneGradualConfig } from './prune_gradual.js';
import { pruneIterativeConfig } from './prune_iterative.js';
import { type StageConfig, stageRegistry } from './stage.js';

/**
 * Every stage, in the order the schema lists them: each registered compressor (a new compressor is
 * a stage once its file is listed in the compressors' register_all.ts), then the pipeline's own.
 * A new pipeline stage is one file exporting its `defineStage({…})` config, plus its line here;
 * the schema, the spec rules, the grid and the state cache read its fields.
 */
const all: StageConfig[] = [
  ...compressorRegistry.names().map((name) => compressorStage(compressorRegistry.get(name))),
  finetuneConfig,
  pruneIterativeConfig,
  pruneGradualConfig,
  distillConfig,
  huffmanConfig,
];
for (const s of all) stageRegistry.register(s.name, s);
