import { ConfigError, type WeightTensor } from '@squash/core';
import { calibrateMinMax, calibrateMovingAverage, calibratePercentile, fakeQuantizeInPlace } from './activation.js';
import { clipImpl } from './clip.js';
import {
  compressorRegistry,
  type ActivationCompressor,
  type ApplyContext,
  type Compressor,
  type ParamSpec,
  type Params,
  type StructureCompressor,
  type WeightCompressor,
  type WeightResult,
  type WeightStats,
} from './compressor.js';
import { assertValid, validateParams } from './params.js';
import { pruneGlobalByMagnitude } from './prune.js';
import { dequantize, quantizeTensor, SCHEME_BITS } from './quant/index.js';
import { OUTPUT_AXIS, QUANT_SCHEMES, type QuantScheme } from './quantized_tensor.js';

/**
 * A weight compressor from its spec, an optional rule between parameters (checked only once every
 * parameter is valid on its own, so one mistake gives one error) and the transform.
 */
function weightCompressor(def: {
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  rule?: (params: Params, path: string) => ConfigError[];
  run: (tensors: WeightTensor[], params: Params, ctx: ApplyContext) => WeightResult;
}): WeightCompressor {
  const c: WeightCompressor = {
    kind: 'weights',
    name: def.name,
    description: def.description,
    params: def.params,
    validate(params, path) {
      const errors = validateParams(def.params, params, path);
      return errors.length || !def.rule ? errors : def.rule(params, path);
    },
    apply(tensors, params, ctx = {}) {
      assertValid(c, params);
      return def.run(tensors, params, ctx);
    },
  };
  return c;
}

const withValues = (t: WeightTensor, values: Float32Array): WeightTensor => ({
  name: t.name,
  shape: [...t.shape],
  values,
});
const total = (tensors: WeightTensor[]) => tensors.reduce((n, t) => n + t.values.length, 0);

function countDiffering(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

function countNonzero(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) n++;
  return n;
}

const clipWeights = weightCompressor({
  name: 'clip-weights',
  description: 'Replaces every weight with |w| > threshold: saturates to ±threshold, or sets it to `value` if given.',
  params: {
    threshold: {
      type: 'number',
      exclusiveMinimum: 0,
      required: true,
      description: 'magnitude above which a weight is clipped',
    },
    value: { type: 'number', description: 'what a clipped weight becomes (default: sign(w)·threshold)' },
  },
  run(tensors, p) {
    const stats: WeightStats = { weightsChanged: 0, weightsKept: total(tensors), weightsTotal: total(tensors) };
    const out = tensors.map((t) => {
      const r = clipImpl(t.values, p.threshold as number, p.value as number | undefined);
      stats.weightsChanged += r.changed;
      return withValues(t, r.values);
    });
    return { tensors: out, stats };
  },
});

const quantizeWeights = weightCompressor({
  name: 'quantize-weights',
  description:
    'Quantizes weights to a codebook per tensor or per output channel: uniform (symmetric, asymmetric, power-of-two step), k-means weight sharing, binary or ternary.',
  params: {
    bits: {
      type: 'integer',
      minimum: 1,
      maximum: 16,
      required: true,
      description: 'bits per weight (binary: 1, ternary: 2, symmetric and pow2: >= 2)',
    },
    scheme: { type: 'string', enum: [...QUANT_SCHEMES], description: 'codebook scheme (default symmetric)' },
    granularity: {
      type: 'string',
      enum: ['tensor', 'channel'],
      description:
        'one codebook per tensor, or per output channel (last axis) of every tensor of rank >= 2 (default tensor)',
    },
  },
  rule(p, path) {
    const scheme = (p.scheme ?? 'symmetric') as QuantScheme;
    const { min, max } = SCHEME_BITS[scheme];
    const bits = p.bits as number;
    if (bits >= min && bits <= max) return [];
    const want = min === max ? `${min}` : `in [${min}, ${max}]`;
    return [
      new ConfigError(`bits must be ${want} for scheme '${scheme}', got ${bits}`, {
        location: { path: path ? `${path}.bits` : 'bits' },
      }),
    ];
  },
  run(tensors, p, ctx) {
    const scheme = (p.scheme ?? 'symmetric') as QuantScheme;
    const perChannel = p.granularity === 'channel';
    const stats: WeightStats = {
      weightsChanged: 0,
      weightsKept: 0,
      weightsTotal: total(tensors),
      bits: p.bits as number,
    };
    const quantized = tensors.map((t, i) => {
      const mask = ctx.masks?.[i];
      // A rank-1 tensor's "channels" would be single weights, each its own codebook: per tensor.
      const channelAxis = perChannel && t.shape.length >= 2 ? OUTPUT_AXIS : null;
      return quantizeTensor(t.values, t.shape, { scheme, bits: p.bits as number, channelAxis, mask });
    });
    const out = tensors.map((t, i) => {
      const values = dequantize(quantized[i]);
      const mask = ctx.masks?.[i];
      stats.weightsChanged += countDiffering(t.values, values);
      stats.weightsKept += mask ? countNonzero(mask) : values.length;
      return withValues(t, values);
    });
    // Binary under a mask needs a zero symbol, hence 2 bits: report what the codes really take.
    if (quantized.length) stats.bits = Math.max(...quantized.map((q) => q.bits));
    return { tensors: out, stats, quantized };
  },
});

const pruneWeights = weightCompressor({
  name: 'prune-weights',
  description:
    'Magnitude pruning: keeps the fraction `retention` of weights with the largest |w|, per tensor or over all tensors at once; weights pruned by an earlier stage stay pruned.',
  params: {
    retention: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      required: true,
      description: 'fraction of weights kept, counted from all weights (pruned ones included)',
    },
    scope: {
      type: 'string',
      enum: ['layer', 'global'],
      description: "'layer': the fraction of every tensor; 'global': one threshold over all tensors (default layer)",
    },
  },
  run(tensors, p, ctx) {
    const r = p.retention as number;
    const masksIn = tensors.map((_, i) => ctx.masks?.[i]);
    const res =
      p.scope === 'global'
        ? pruneGlobalByMagnitude(
            tensors.map((t) => t.values),
            r,
            masksIn,
          )
        : (() => {
            const each = tensors.map((t, i) => pruneGlobalByMagnitude([t.values], r, [masksIn[i]]));
            return { values: each.map((e) => e.values[0]), masks: each.map((e) => e.masks[0]) };
          })();
    const stats: WeightStats = { weightsChanged: 0, weightsKept: 0, weightsTotal: total(tensors) };
    const out = tensors.map((t, i) => {
      // Only weights that were nonzero and are now zero count as pruned; zeros stay zeros.
      const after = countNonzero(res.values[i]);
      stats.weightsChanged += countNonzero(t.values) - after;
      stats.weightsKept += after;
      return withValues(t, res.values[i]);
    });
    return { tensors: out, stats, masks: res.masks };
  },
});

const pruneUnitsParams: Record<string, ParamSpec> = {
  retention: {
    type: 'number',
    exclusiveMinimum: 0,
    maximum: 1,
    required: true,
    description: 'fraction of units (output neurons, conv filters) kept per layer, at least one',
  },
  norm: { type: 'string', enum: ['l2', 'l1'], description: "how a unit's incoming weights are ranked (default l2)" },
};

/** Structured pruning: the trainer removes the units physically (see `unitNorms`, `selectUnitsByNorm`). */
const pruneUnits: StructureCompressor = {
  kind: 'structure',
  name: 'prune-units',
  description:
    'Structured pruning: removes whole units (dense output neurons, conv filters) with the smallest weight norm, shrinking the layers.',
  params: pruneUnitsParams,
  validate: (params, path) => validateParams(pruneUnitsParams, params, path),
};

const activationParams: Record<string, ParamSpec> = {
  bits: { type: 'integer', minimum: 1, maximum: 16, required: true, description: 'bits per activation' },
  calibration: {
    type: 'string',
    enum: ['minmax', 'percentile', 'ema'],
    description:
      'how the range is set from training samples: min/max, percentiles, or a moving average of batch min/max (default minmax)',
  },
  percentile: {
    type: 'number',
    exclusiveMinimum: 50,
    maximum: 100,
    description: 'percentile calibration: the upper percentile kept (default 99.99)',
  },
  momentum: {
    type: 'number',
    minimum: 0,
    maximum: 0.999,
    description: 'ema calibration: weight of the running range per batch (default 0.9)',
  },
};

const quantizeActivations: ActivationCompressor = {
  kind: 'activations',
  name: 'quantize-activations',
  description:
    'Asymmetric uniform fake quantization of hidden activations with 2^bits levels over a calibrated range that includes 0 (unsigned for ReLU outputs).',
  params: activationParams,
  validate: (params, path) => validateParams(activationParams, params, path),
  calibrate(batches, params) {
    assertValid(quantizeActivations, params);
    const method = (params.calibration as string | undefined) ?? 'minmax';
    if (method === 'percentile')
      return calibratePercentile(concatBatches(batches), (params.percentile as number | undefined) ?? 99.99);
    if (method === 'ema') return calibrateMovingAverage(batches, (params.momentum as number | undefined) ?? 0.9);
    return calibrateMinMax(concatBatches(batches));
  },
  // Hot path: no full validation per batch; fakeQuantizeInPlace still rejects bad bits.
  quantize: (values, range, params) => fakeQuantizeInPlace(values, range, params.bits as number),
  bits(params) {
    assertValid(quantizeActivations, params);
    return params.bits as number;
  },
};

function concatBatches(batches: Float32Array[]): Float32Array {
  if (batches.length === 1) return batches[0]!;
  const out = new Float32Array(batches.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of batches) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const all: Compressor[] = [clipWeights, quantizeWeights, pruneWeights, quantizeActivations, pruneUnits];
for (const c of all) compressorRegistry.register(c.name, c);
