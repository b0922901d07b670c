import type * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { SQUASH_VERSION, stableHash } from '@squash/core';
import { loadState, saveState } from './state_cache.js';
import { compressorRegistry, type ActivationCompressor, type WeightCompressor } from '@squash/compressors';
import {
  activationHookFor,
  buildModel,
  evaluate,
  getWeights,
  setWeights,
  splitValidation,
  type Evaluation,
  type ModelSpec,
} from '@squash/trainer';
import type { Stage } from '../spec/types.js';
import { applyActivationCompressor, applyUnitPruning, applyWeightCompressor } from './compress_stages.js';
import { activationRecord, DEFAULT_INDEX_BITS, type PipelineContext, type PipelineState } from './state.js';
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
      state.indexBits = (stage.params.indexBits as number | undefined) ?? 'auto';
      return;
  }
  const c = compressorRegistry.get(stage.compressor);
  if (c.kind === 'weights') return applyWeightCompressor(state, stage, c as WeightCompressor);
  if (c.kind === 'activations') return applyActivationCompressor(state, ctx, stage, c as ActivationCompressor);
  return applyUnitPruning(state, ctx, stage);
}

/** Runs a trial's stages on a copy of the baseline and evaluates the result on the test split. */
/** Stages whose result is worth caching: they train (or rebuild the model). */
const TRAINING_STAGES = new Set(['finetune', 'prune-iterative', 'prune-gradual', 'distill', 'prune-units']);

export interface PipelineResult {
  state: PipelineState;
  evaluation: Evaluation;
  validation?: Evaluation;
  /** Stages restored from the state cache instead of run (0 when nothing was cached). */
  cachedStages: number;
}

export async function runPipeline(
  baseline: tf.LayersModel,
  baselineSpec: ModelSpec,
  stages: Stage[],
  ctx: PipelineContext,
): Promise<PipelineResult> {
  const keyAt = (i: number) =>
    stableHash({
      kind: 'pipeline-state',
      baseline: ctx.baselineId,
      stages: stages.slice(0, i + 1),
      models: ctx.models,
      version: SQUASH_VERSION,
    });
  const dirAt = (i: number) => (ctx.stateCacheDir ? join(ctx.stateCacheDir, keyAt(i)) : undefined);
  // The longest cached prefix that ends in a training stage, if any.
  let state: PipelineState | undefined;
  let start = 0;
  for (let i = stages.length - 1; i >= 0 && !state; i--) {
    const dir = TRAINING_STAGES.has(stages[i]!.compressor) ? dirAt(i) : undefined;
    if (dir && (state = loadState(dir))) start = i + 1;
  }
  if (!state) {
    const model = buildModel(baselineSpec, ctx.data.inputShape, ctx.seed);
    setWeights(model, getWeights(baseline));
    state = {
      spec: baselineSpec,
      model,
      masks: new Map(),
      quantized: new Map(),
      activations: new Map(),
      huffman: false,
      indexBits: DEFAULT_INDEX_BITS,
      history: [],
      trainSeconds: 0,
    };
  }
  for (let i = start; i < stages.length; i++) {
    await applyStage(state, ctx, stages[i]!, i);
    const dir = TRAINING_STAGES.has(stages[i]!.compressor) ? dirAt(i) : undefined;
    if (dir) saveState(dir, state, ctx.data.inputShape);
  }
  // The same hook the artifact's loader applies, so the recorded and reloaded accuracies agree.
  const hook = activationHookFor({ activations: activationRecord(state) });
  // Validation metrics (held-out training data) are what settings should be chosen by, never test.
  const held = splitValidation(ctx.data.train, ctx.train.validationSplit).validation;
  return {
    state,
    evaluation: evaluate(state.model, ctx.data.test, { activationHook: hook }),
    validation: held ? evaluate(state.model, held, { activationHook: hook }) : undefined,
    cachedStages: start,
  };
}
