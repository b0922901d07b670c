import { ConfigError } from '@squash/core';
import { selectUnitsByNorm, unitNorms, type ActivationCompressor, type WeightCompressor } from '@squash/compressors';
import {
  buildModel,
  collectActivations,
  describeTie,
  getWeights,
  isKernel,
  removeUnits,
  setWeights,
  unitLayers,
} from '@squash/trainer';
import type { Stage } from '../spec/types.js';
import { groupByParams, layerOf, paramsForLayer } from './layers.js';
import type { PipelineContext, PipelineState } from './state.js';

/**
 * A per-tensor compressor over the current kernels, layer overrides applied. Masks from earlier
 * stages are passed in (pruned weights stay pruned); a kernel changed by anything but
 * quantization loses its recorded quantization.
 */
export function applyWeightCompressor(state: PipelineState, stage: Stage, c: WeightCompressor): void {
  const weights = getWeights(state.model);
  const byName = new Map(weights.map((w) => [w.name, w]));
  for (const group of groupByParams(weights.filter(isKernel), stage, (w) => layerOf(w.name))) {
    const result = c.apply(group.items, group.params, { masks: group.items.map((w) => state.masks.get(w.name)) });
    result.tensors.forEach((t, i) => {
      byName.set(t.name, t);
      const mask = result.masks?.[i];
      if (mask) state.masks.set(t.name, mask);
      const q = result.quantized?.[i];
      if (q) state.quantized.set(t.name, q);
      else state.quantized.delete(t.name);
    });
  }
  setWeights(state.model, [...byName.values()]);
}

/** Calibrates every hidden layer's range on training data with the weights as compressed so far. */
export function applyActivationCompressor(
  state: PipelineState,
  ctx: PipelineContext,
  stage: Stage,
  c: ActivationCompressor,
): void {
  // Batches of 100 samples: the moving-average method updates its range once per batch.
  for (const [layer, batches] of collectActivations(state.model, ctx.calibration, 100)) {
    const params = paramsForLayer(stage, layer);
    if (!params) continue;
    const range = c.calibrate(batches, params);
    state.activations.set(layer, { bits: c.bits(params), min: range.min, max: range.max });
  }
}

/**
 * Structured pruning: keeps the units (dense units, conv and separable filters) with the largest
 * norms and rebuilds a smaller model. The output layer keeps its units: they are the classes.
 * Units whose channels meet another layer's in an add or concatenate (or a reshape) cannot be
 * removed alone: the stage is refused, naming each such layer and how to skip it.
 */
export function applyUnitPruning(state: PipelineState, ctx: PipelineContext, stage: Stage): void {
  const weights = getWeights(state.model);
  const byName = new Map(weights.map((w) => [w.name, w]));
  const keep = new Map<string, Int32Array>();
  const tied: string[] = [];
  const skips: string[] = [];
  for (const layer of unitLayers(state.spec, ctx.data.inputShape)) {
    const params = paramsForLayer(stage, layer.name);
    if (!params || layer.tie?.type === 'output') continue;
    if (layer.tie) {
      tied.push(describeTie(layer, layer.tie));
      skips.push(`{match: ${layer.name}, skip: true}`);
      continue;
    }
    const k = byName.get(layer.kernel)!;
    const norms = unitNorms(k.values, k.shape, k.channelAxis ?? -1, params.norm as 'l1' | 'l2', k.channelSpan);
    keep.set(layer.name, selectUnitsByNorm(norms, params.retention as number));
  }
  if (tied.length)
    throw new ConfigError(
      `${tied.join('; ')}; prune-units cannot prune ${tied.length === 1 ? 'them' : 'those'} alone: ` +
        `skip ${tied.length === 1 ? 'it' : 'them'} with layers: [${skips.join(', ')}]`,
    );
  const smaller = removeUnits(state.spec, weights, keep, ctx.data.inputShape);
  const model = buildModel(smaller.spec, ctx.data.inputShape, ctx.seed);
  setWeights(model, smaller.weights);
  state.model.dispose();
  state.model = model;
  state.spec = smaller.spec;
  state.masks.clear();
  state.quantized.clear();
}
