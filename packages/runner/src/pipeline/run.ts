import type * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { SQUASH_VERSION, stableHash } from '@squash/core';
import { loadState, saveState } from './state_cache.js';
import {
  activationHookFor,
  evaluate,
  getWeights,
  splitValidation,
  type Evaluation,
  type ModelSpec,
} from '@squash/trainer';
import { foldedModel } from './fold.js';
import type { Stage } from '../spec/types.js';
import {
  cachesState,
  canonicalModels,
  canonicalStage,
  getStage,
  modelsNamedBy,
  withStageDefaults,
} from '../stages/registry.js';
import { activationRecord, DEFAULT_INDEX_BITS, type PipelineContext, type PipelineState } from './state.js';

/**
 * The state-cache key after `stages[i]`: the baseline, the stages so far and the experiment models
 * they name (the same rule as the trial id's), plus the Squash version. A model of `models:` that
 * no stage so far names is not part of the computation, so it does not change the key; nor does a
 * param written at its declared default.
 */
export function stateKey(ctx: Pick<PipelineContext, 'baselineId' | 'models'>, stages: Stage[], i: number): string {
  const done = stages.slice(0, i + 1);
  return stableHash({
    kind: 'pipeline-state',
    baseline: ctx.baselineId,
    stages: done.map(canonicalStage),
    models: canonicalModels(modelsNamedBy(done, ctx.models)),
    version: SQUASH_VERSION,
  });
}

export interface PipelineResult {
  state: PipelineState;
  evaluation: Evaluation;
  validation?: Evaluation;
  /** Stages restored from the state cache instead of run (0 when nothing was cached). */
  cachedStages: number;
}

/** Runs a trial's stages on a copy of the baseline and evaluates the result on the test split. */
export async function runPipeline(
  baseline: tf.LayersModel,
  baselineSpec: ModelSpec,
  stages: Stage[],
  ctx: PipelineContext,
): Promise<PipelineResult> {
  const configs = stages.map((s) => getStage(s.compressor));
  const dirAt = (i: number) =>
    ctx.stateCacheDir && cachesState(configs[i]!) ? join(ctx.stateCacheDir, stateKey(ctx, stages, i)) : undefined;
  // The longest cached prefix that ends in a training (or model-rebuilding) stage, if any.
  let state: PipelineState | undefined;
  let start = 0;
  for (let i = stages.length - 1; i >= 0 && !state; i--) {
    const dir = dirAt(i);
    if (dir && (state = loadState(dir))) start = i + 1;
  }
  if (!state) {
    // Batch norms folded into the layers before them, as a deployed model has them: every stage,
    // the sizes and the artifact see the folded model (the baseline's own accuracy stays unfolded).
    const { spec, model } = foldedModel(baselineSpec, getWeights(baseline), ctx.data.inputShape, ctx.seed);
    state = {
      spec,
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
    await ctx.checkStop?.();
    const name = stages[i]!.compressor;
    ctx.onStage?.(name, i + 1, stages.length);
    const onEpoch = ctx.onEpoch;
    const here = { stage: name, stageIndex: i + 1, stages: stages.length };
    const stageCtx: PipelineContext = onEpoch ? { ...ctx, onEpoch: (log, p) => onEpoch(log, { ...p, ...here }) } : ctx;
    await configs[i]!.apply(state, stageCtx, withStageDefaults(stages[i]!), i);
    const dir = dirAt(i);
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
