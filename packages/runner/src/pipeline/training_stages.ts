import * as tf from '@tensorflow/tfjs';
import {
  compressorRegistry,
  dequantize,
  fakeQuantizeInPlace,
  quantizeTensor,
  type QuantizedTensor,
  type WeightCompressor,
} from '@squash/compressors';
import {
  buildModel,
  fineTune,
  getWeights,
  setWeights,
  sharedWeights,
  steActivation,
  steKernel,
  variablesByName,
  type FineTuneOptions,
} from '@squash/trainer';
import type { Stage } from '../spec/types.js';
import { applyWeightCompressor } from './compress_stages.js';
import type { PipelineContext, PipelineState } from './state.js';

interface TrainingParams {
  epochs: number;
  learningRate?: number;
  batchSize?: number;
}

function options(ctx: PipelineContext, p: TrainingParams, defaultRate: number, seedOffset: number): FineTuneOptions {
  return {
    epochs: p.epochs,
    batchSize: p.batchSize ?? ctx.train.batchSize,
    learningRate: p.learningRate ?? defaultRate,
    seed: ctx.seed * 7919 + seedOffset,
    // The baseline's held-out samples stay held out: fine-tuning never trains on them.
    validationSplit: ctx.train.validationSplit,
    onEpoch: ctx.onEpoch,
  };
}

/** Re-quantizes a kernel exactly as it was quantized before (same scheme, bits, granularity, mask). */
function requantize(q: QuantizedTensor, values: Float32Array, mask: Uint8Array | undefined): QuantizedTensor {
  // A masked binary tensor gains a zero symbol (bits 2), but was asked for 1 bit.
  const bits = q.scheme === 'binary' ? 1 : q.bits;
  return quantizeTensor(values, q.shape, { scheme: q.scheme, bits, channelAxis: q.channelAxis, mask });
}

function channelIndex(q: QuantizedTensor): Int32Array {
  const axis = q.channelAxis;
  const index = new Int32Array(q.codes.length);
  if (axis === null) {
    index.set(q.codes);
    return index;
  }
  const stride = q.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = q.shape[axis]!;
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
  extra: Partial<FineTuneOptions> = {},
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
  const ste = steKernel(
    new Map(
      uniform.map(([name, q]) => [name, (v: Float32Array) => dequantize(requantize(q, v, state.masks.get(name)))]),
    ),
  );
  const kernelFor: FineTuneOptions['kernelFor'] = (i, name, kernel) =>
    shared.layers.has(name) ? shared.kernelFor(i, name, kernel) : ste(i, name, kernel);
  const byName = variablesByName(state.model);
  const frozenKernels = new Set(kmeans.map(([name]) => byName.get(name)));
  const variables = [...byName.values()].filter((v) => !frozenKernels.has(v)).concat(shared.variables);
  const actRanges = new Map([...state.activations].map(([layer, a]) => [layer, { min: a.min, max: a.max }]));
  const bitsOf = new Map([...state.activations].map(([layer, a]) => [layer, a.bits]));
  const activationFor = state.activations.size
    ? steActivation(actRanges, (v, r, layer) => fakeQuantizeInPlace(v, r, bitsOf.get(layer)!))
    : undefined;
  const masks = new Map([...state.masks].filter(([name]) => !shared.layers.has(name)));
  const t0 = performance.now();
  const logs = await fineTune(state.model, ctx.data.train, {
    ...options(ctx, p, ctx.train.learningRate / 10, seedOffset),
    masks,
    kernelFor,
    activationFor,
    variables,
    afterStep: (step) => {
      shared.afterStep();
      extra.afterStep?.(step);
    },
    distill: extra.distill,
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

/** Han et al. 2015: prune → retrain, `rounds` times; round i keeps retention^(i/rounds). */
export async function runIterativePruning(
  state: PipelineState,
  ctx: PipelineContext,
  stage: Stage,
  seedOffset: number,
): Promise<void> {
  const p = stage.params as {
    retention: number;
    rounds: number;
    epochs: number;
    learningRate?: number;
    batchSize?: number;
    scope?: string;
  };
  const prune = compressorRegistry.get('prune-weights') as WeightCompressor;
  for (let round = 1; round <= p.rounds; round++) {
    const atRound = (final: number) => final ** (round / p.rounds);
    // Per-layer final retentions (`layers:`) follow the same geometric schedule as the stage's own.
    const layers = stage.layers?.map((o) =>
      typeof o.retention === 'number' ? { ...o, retention: atRound(o.retention) } : o,
    );
    applyWeightCompressor(
      state,
      {
        ...stage,
        layers,
        compressor: 'prune-weights',
        params: { retention: atRound(p.retention), scope: p.scope ?? 'layer' },
      },
      prune,
    );
    await runFinetune(state, ctx, p, seedOffset + round);
  }
}

/**
 * Zhu & Gupta 2017 while training: at step t in {t0, t0+Δt, …, t_end} retention becomes
 * 1 − s_t with s_t = s_f + (s_i − s_f)(1 − (t − t0)/(t_end − t0))³; t0 = 0 and t_end is 3/4 of
 * the steps, so the last quarter trains with the final mask. Masks hold between updates.
 */
export async function runGradualPruning(
  state: PipelineState,
  ctx: PipelineContext,
  stage: Stage,
  seedOffset: number,
): Promise<void> {
  const p = stage.params as {
    retention: number;
    initialRetention?: number;
    epochs: number;
    frequency?: number;
    learningRate?: number;
    batchSize?: number;
    scope?: string;
  };
  const { PolynomialDecay } = await import('@squash/compressors');
  const batch = p.batchSize ?? ctx.train.batchSize;
  const steps = p.epochs * Math.ceil(ctx.data.train.count / batch);
  const frequency = p.frequency ?? 100;
  const endStep = Math.max(frequency, Math.floor((0.75 * steps) / frequency) * frequency);
  const schedule = new PolynomialDecay({
    initialRetention: p.initialRetention ?? 1,
    finalRetention: p.retention,
    beginStep: 0,
    endStep,
    frequency,
    exponent: 3,
  });
  const prune = compressorRegistry.get('prune-weights') as WeightCompressor;
  const pruneTo = (retention: number) =>
    applyWeightCompressor(
      state,
      { ...stage, compressor: 'prune-weights', params: { retention, scope: p.scope ?? 'layer' } },
      prune,
    );
  const first = schedule.at(0);
  if (first.active) pruneTo(first.retention);
  // The loop's own masks are fixed at its start; between updates these keep new zeros at zero.
  let maskTensors = new Map<tf.Variable, tf.Tensor>();
  const refreshMasks = () => {
    tf.dispose([...maskTensors.values()]);
    const vars = variablesByName(state.model);
    maskTensors = new Map(
      [...state.masks].map(([name, m]) => [vars.get(name)!, tf.tensor(Float32Array.from(m), vars.get(name)!.shape)]),
    );
  };
  refreshMasks();
  await runFinetune(state, ctx, p, seedOffset, {
    afterStep: (step) => {
      const s = schedule.at(step);
      if (s.active) {
        pruneTo(s.retention);
        refreshMasks();
      }
      tf.tidy(() => maskTensors.forEach((m, v) => v.assign(tf.mul(v, m))));
    },
  });
  tf.dispose([...maskTensors.values()]);
}

/** Hinton et al. 2015: a new student learns from the baseline (teacher); later stages compress it. */
export async function runDistillation(
  state: PipelineState,
  ctx: PipelineContext,
  stage: Stage,
  seedOffset: number,
): Promise<void> {
  const p = stage.params as {
    student: string;
    temperature?: number;
    alpha?: number;
    epochs: number;
    learningRate?: number;
    batchSize?: number;
  };
  const spec = ctx.resolveModel(p.student);
  const student = buildModel(spec, ctx.data.inputShape, ctx.seed);
  state.model.dispose();
  state.model = student;
  state.spec = spec;
  state.masks.clear();
  state.quantized.clear();
  // A student trains from scratch: the baseline's rate, not the retraining rate.
  await runFinetune(state, ctx, { ...p, learningRate: p.learningRate ?? ctx.train.learningRate }, seedOffset, {
    distill: { teacher: ctx.teacher, temperature: p.temperature ?? 4, alpha: p.alpha ?? 0.7 },
  });
}
