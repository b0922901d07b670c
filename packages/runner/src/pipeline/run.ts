import type * as tf from '@tensorflow/tfjs';
import { compressorRegistry, type ActivationCompressor, type WeightCompressor } from '@squash/compressors';
import { buildModel, evaluate, getWeights, setWeights, splitValidation, type ActivationHook, type Evaluation, type ModelSpec } from '@squash/trainer';
import type { Stage } from '../spec/types.js';
import { applyActivationCompressor, applyUnitPruning, applyWeightCompressor } from './compress_stages.js';
import { DEFAULT_INDEX_BITS, type PipelineContext, type PipelineState } from './state.js';
import { runDistillation, runFinetune, runGradualPruning, runIterativePruning } from './training_stages.js';

/** Applies one stage to the state, in place. */
async function applyStage(state: PipelineState, ctx: PipelineContext, stage: Stage, index: number): Promise<void> {
  const seedOffset = 1000 * (index + 1);
  switch (stage.compressor) {
    case 'finetune':
      return runFinetune(state, ctx, stage.params as { epochs: number }, seedOffset);
    case 'prune-iterative':
      return runIterativePruning(state, ctx, stage, seedOffset);
    case 'prune-gradual':
      return runGradualPruning(state, ctx, stage, seedOffset);
    case 'distill':
      return runDistillation(state, ctx, stage, seedOffset);
    case 'huffman':
      state.huffman = true;
      state.indexBits = (stage.params.indexBits as number | undefined) ?? state.indexBits;
      return;
  }
  const c = compressorRegistry.get(stage.compressor);
  if (c.kind === 'weights') return applyWeightCompressor(state, stage, c as WeightCompressor);
  if (c.kind === 'activations') return applyActivationCompressor(state, ctx, stage, c as ActivationCompressor);
  return applyUnitPruning(state, ctx, stage);
}

/** The hook that fake-quantizes hidden activations as the state says. */
export function activationHook(state: PipelineState): ActivationHook | undefined {
  if (!state.activations.size) return undefined;
  const c = compressorRegistry.get('quantize-activations') as ActivationCompressor;
  return (_i, layer, values) => {
    const a = state.activations.get(layer);
    if (a) c.quantize(values, { min: a.min, max: a.max }, { bits: a.bits });
  };
}

/** Runs a trial's stages on a copy of the baseline and evaluates the result on the test split. */
export async function runPipeline(baseline: tf.LayersModel, baselineSpec: ModelSpec, stages: Stage[], ctx: PipelineContext): Promise<{ state: PipelineState; evaluation: Evaluation; validation?: Evaluation }> {
  const model = buildModel(baselineSpec, ctx.data.inputShape, ctx.seed);
  setWeights(model, getWeights(baseline));
  const state: PipelineState = {
    spec: baselineSpec, model, masks: new Map(), quantized: new Map(), activations: new Map(),
    huffman: false, indexBits: DEFAULT_INDEX_BITS, history: [], trainSeconds: 0,
  };
  for (const [i, stage] of stages.entries()) await applyStage(state, ctx, stage, i);
  const hook = activationHook(state);
  // Validation metrics (held-out training data) are what settings should be chosen by, never test.
  const held = splitValidation(ctx.data.train, ctx.train.validationSplit).validation;
  return {
    state,
    evaluation: evaluate(state.model, ctx.data.test, { activationHook: hook }),
    validation: held ? evaluate(state.model, held, { activationHook: hook }) : undefined,
  };
}
