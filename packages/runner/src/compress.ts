import type * as tf from '@tensorflow/tfjs';
import type { WeightTensor } from '@squash/core';
import { compressorRegistry, type ActivationCompressor, type Params } from '@squash/compressors';
import type { Split } from '@squash/datasets';
import { collectActivations, isKernel, setWeights, type ActivationHook } from '@squash/trainer';
import type { Stage } from './spec/types.js';

export interface CompressionResult {
  /** Applied at evaluation when the pipeline quantizes activations. */
  activationHook?: ActivationHook;
  stats: {
    weightsTotal: number;
    weightsChangedFraction: number;
    weightsKeptFraction: number;
    weightBits?: number;
    activationBits?: number;
  };
}

function concatAll(chunks: Float32Array[]): Float32Array {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Applies the stages in order to `model` (whose weights start as the baseline's). Weight stages
 * transform the kernels (biases stay float); an activation stage is calibrated on `calibration`
 * (training data, never the test split) against the weights as compressed so far.
 */
export function applyStages(model: tf.LayersModel, baseline: WeightTensor[], stages: Stage[], calibration: Split): CompressionResult {
  const original = baseline.filter(isKernel);
  let kernels = original;
  let weightBits: number | undefined;
  let act: { compressor: ActivationCompressor; params: Params } | undefined;
  for (const stage of stages) {
    const c = compressorRegistry.get(stage.compressor);
    if (c.kind === 'weights') {
      const { tensors, stats } = c.apply(kernels, stage.params);
      kernels = tensors;
      if (stats.bits !== undefined) weightBits = stats.bits;
    } else {
      act = { compressor: c, params: stage.params };
    }
  }
  setWeights(model, [...baseline.filter((t) => !isKernel(t)), ...kernels]);

  // Fractions relative to the baseline, so a pipeline reports its combined effect.
  let total = 0, changed = 0, kept = 0;
  original.forEach((o, i) => {
    const k = kernels[i]!.values;
    for (let j = 0; j < k.length; j++) {
      if (k[j] !== o.values[j]) changed++;
      if (k[j] !== 0) kept++;
    }
    total += k.length;
  });

  let activationHook: ActivationHook | undefined;
  if (act) {
    const { compressor, params } = act;
    const ranges = new Map<string, { min: number; max: number }>();
    for (const [layer, chunks] of collectActivations(model, calibration)) ranges.set(layer, compressor.calibrate(concatAll(chunks), params));
    activationHook = (_i, layer, values) => compressor.quantize(values, ranges.get(layer)!, params);
  }
  return {
    activationHook,
    stats: {
      weightsTotal: total,
      weightsChangedFraction: changed / total,
      weightsKeptFraction: kept / total,
      weightBits,
      activationBits: act ? act.compressor.bits(act.params) : undefined,
    },
  };
}

