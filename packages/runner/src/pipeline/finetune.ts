import { dequantize, fakeQuantizeInPlace, quantizeTensor, type QuantizedTensor } from '@squash/compressors';
import {
  fineTune,
  getWeights,
  setWeights,
  sharedWeights,
  steActivation,
  steKernel,
  variablesByName,
  type FineTuneOptions,
} from '@squash/trainer';
import type { OptimizerSettings } from '@squash/trainer/specs';
import { epochsSpanned, stageOptimizerSettings, trainingSamples } from '../train_settings.js';
import type { PipelineContext, PipelineState } from './state.js';

/** The params every training stage takes (epochs or iterations; optimizer fields as written). */
export interface TrainingParams extends Partial<OptimizerSettings> {
  epochs?: number;
  iterations?: number;
  learningRate?: number;
  batchSize?: number;
}

/** Iterative pruning's round of the training, for progress (1-based, of `rounds`). */
export interface TrainingRound {
  round?: number;
  rounds?: number;
}

function options(
  ctx: PipelineContext,
  p: TrainingParams,
  defaultRate: number,
  seedOffset: number,
  round: TrainingRound,
): FineTuneOptions {
  const onEpoch = ctx.onEpoch;
  const batchSize = p.batchSize ?? ctx.train.batchSize;
  const epochs = epochsSpanned({ ...p, batchSize }, trainingSamples(ctx.data.train.count, ctx.train.validationSplit));
  return {
    epochs,
    ...(p.iterations !== undefined ? { iterations: p.iterations } : {}),
    batchSize,
    learningRate: p.learningRate ?? defaultRate,
    // The stage's optimizer fields over the baseline's (`train:`), as the spec rules checked them.
    optimizer: stageOptimizerSettings(ctx.train, p),
    seed: ctx.seed * 7919 + seedOffset,
    // The baseline's held-out samples stay held out: fine-tuning never trains on them.
    validationSplit: ctx.train.validationSplit,
    augment: ctx.augment,
    onEpoch: onEpoch && ((log) => onEpoch(log, { epochs, ...round })),
    checkStop: ctx.checkStop,
  };
}

/** Re-quantizes a kernel exactly as it was quantized before (same scheme, bits, granularity, mask). */
function requantize(q: QuantizedTensor, values: Float32Array, mask: Uint8Array | undefined): QuantizedTensor {
  // A masked binary tensor gains a zero symbol (bits 2), but was asked for 1 bit.
  const bits = q.scheme === 'binary' ? 1 : q.bits;
  return quantizeTensor(values, q.shape, {
    scheme: q.scheme,
    bits,
    channelAxis: q.channelAxis,
    channelSpan: q.channelSpan,
    mask,
  });
}

/** Each element's index into the flat codebook: its channel's offset plus its code. */
function channelIndex(q: QuantizedTensor): Int32Array {
  const axis = q.channelAxis;
  const index = new Int32Array(q.codes.length);
  if (axis === null) {
    index.set(q.codes);
    return index;
  }
  const span = q.channelSpan ?? 1;
  const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const stride = prod(q.shape.slice(axis + span));
  const channels = prod(q.shape.slice(axis, axis + span));
  for (let i = 0; i < index.length; i++) index[i] = (Math.floor(i / stride) % channels) * q.levels + q.codes[i]!;
  return index;
}

/**
 * Retrains with every constraint of the state held: masks; k-means layers train their centroids
 * (members' gradients summed, Deep Compression §3.3); uniformly quantized layers train their float
 * kernels through a straight-through quantizer and are re-quantized at the end; hidden
 * activations stay fake-quantized.
 */
export async function runFinetune(
  state: PipelineState,
  ctx: PipelineContext,
  p: TrainingParams,
  seedOffset: number,
  extra: Partial<FineTuneOptions> & TrainingRound = {},
): Promise<void> {
  const kmeans = [...state.quantized].filter(([, q]) => q.scheme === 'kmeans');
  const uniform = [...state.quantized].filter(([, q]) => q.scheme !== 'kmeans');
  const shared = sharedWeights(
    kmeans.map(([name, q]) => ({
      name,
      shape: q.shape,
      codebook: q.codebook.slice(),
      index: channelIndex(q),
      frozen: Uint8Array.from({ length: q.codebook.length }, (_, j) =>
        q.zeroCodes[Math.floor(j / q.levels)] === j % q.levels ? 1 : 0,
      ),
    })),
  );
  const quantizers = new Map(
    uniform.map(([name, q]) => [name, (v: Float32Array) => dequantize(requantize(q, v, state.masks.get(name)))]),
  );
  const ste = steKernel(quantizers);
  const kernelFor: FineTuneOptions['kernelFor'] = (i, name, kernel) =>
    shared.layers.has(name) ? shared.kernelFor(i, name, kernel) : ste(i, name, kernel);
  const byName = variablesByName(state.model);
  const frozenKernels = new Set(kmeans.map(([name]) => byName.get(name)));
  const variables = [...byName.values()].filter((v) => !frozenKernels.has(v)).concat(shared.variables);
  const actRanges = new Map([...state.activations].map(([layer, a]) => [layer, { min: a.min, max: a.max }]));
  const bitsOf = new Map([...state.activations].map(([layer, a]) => [layer, a.bits]));
  const quantizeInPlace = (v: Float32Array, r: { min: number; max: number }, layer: string) =>
    fakeQuantizeInPlace(v, r, bitsOf.get(layer)!);
  const activationHook = state.activations.size ? steActivation(actRanges, quantizeInPlace) : undefined;
  const masks = new Map([...state.masks].filter(([name]) => !shared.layers.has(name)));
  const t0 = performance.now();
  const logs = await fineTune(state.model, ctx.data.train, {
    ...options(ctx, p, ctx.train.learningRate / 10, seedOffset, { round: extra.round, rounds: extra.rounds }),
    masks,
    kernelFor,
    activationHook,
    variables,
    // Frozen centroids are held at 0 by the optimizer's masks (constraints.shared's `frozen`).
    afterStep: extra.afterStep,
    distill: extra.distill,
    constraints: {
      ste: quantizers,
      shared: shared.layers,
      activations: state.activations.size ? { ranges: actRanges, quantizeInPlace } : undefined,
    },
  });
  state.trainSeconds += (performance.now() - t0) / 1000;
  state.history.push(...logs);

  // Write the trained constraints back as exact quantized kernels.
  const weights = getWeights(state.model);
  for (const w of weights) {
    const old = state.quantized.get(w.name);
    if (!old) continue;
    let q: QuantizedTensor;
    if (old.scheme === 'kmeans') {
      const codebook = shared.layers.get(w.name)!.centroids.dataSync() as Float32Array;
      q = { ...old, codebook: codebook.slice(), params: codebook.slice() };
    } else {
      q = requantize(old, w.values, state.masks.get(w.name));
    }
    state.quantized.set(w.name, q);
    w.values = dequantize(q);
  }
  setWeights(state.model, weights);
  shared.dispose();
}
