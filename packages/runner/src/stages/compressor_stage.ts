import type { Compressor } from '@squash/compressors';
import type { StageConfig } from './stage.js';

/**
 * The stage of a compressor, from its kind: weight compressors transform the kernels (layer by
 * layer, overrides applied), activation compressors calibrate the hidden layers' ranges, structure
 * compressors rebuild a smaller model. Every param of a compressor may be set per layer.
 */
export function compressorStage(c: Compressor): StageConfig {
  const own = {
    name: c.name,
    description: c.description,
    params: c.params,
    validate: (params, path) => c.validate(params, path),
    layerParams: c.params,
    trains: false,
  } satisfies Partial<StageConfig>;
  switch (c.kind) {
    case 'weights':
      return {
        ...own,
        replacesModel: false,
        transformsWeights: true,
        probeCompressor: c.name,
        async apply(state, _ctx, stage) {
          const { applyWeightCompressor } = await import('../pipeline/compress_stages.js');
          applyWeightCompressor(state, stage, c);
        },
      };
    case 'activations':
      return {
        ...own,
        replacesModel: false,
        transformsWeights: false,
        async apply(state, ctx, stage) {
          const { applyActivationCompressor } = await import('../pipeline/compress_stages.js');
          applyActivationCompressor(state, ctx, stage, c);
        },
      };
    case 'structure':
      return {
        ...own,
        replacesModel: true,
        transformsWeights: false,
        async apply(state, ctx, stage) {
          const { applyUnitPruning } = await import('../pipeline/compress_stages.js');
          applyUnitPruning(state, ctx, stage);
        },
      };
  }
}
