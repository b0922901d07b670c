import type { WeightTensor } from '@squash/core';
import { calibrateMinMax, fakeQuantizeInPlace } from './activation.js';
import { clipImpl } from './clip.js';
import {
  compressorRegistry, type ActivationCompressor, type Compressor, type ParamSpec, type Params,
  type WeightCompressor, type WeightStats,
} from './compressor.js';
import { assertValid, validateParams } from './params.js';
import { pruneByMagnitudeImpl } from './prune.js';
import { quantizeSymmetricImpl } from './quantize.js';

/** What one tensor contributes; `apply` sums these over the tensors it is given. */
interface TensorResult {
  values: Float32Array;
  changed: number;
  kept: number;
}

/** A per-tensor weight compressor: validates once, maps every tensor, sums the stats. */
function weightCompressor(def: {
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  bits?: (params: Params) => number;
  each: (values: Float32Array, params: Params) => TensorResult;
}): WeightCompressor {
  const c: WeightCompressor = {
    kind: 'weights',
    name: def.name,
    description: def.description,
    params: def.params,
    validate: (params, path) => validateParams(def.params, params, path),
    apply(tensors, params) {
      assertValid(c, params);
      const stats: WeightStats = { weightsChanged: 0, weightsKept: 0, weightsTotal: 0 };
      if (def.bits) stats.bits = def.bits(params);
      const out: WeightTensor[] = tensors.map((t) => {
        const r = def.each(t.values, params);
        stats.weightsChanged += r.changed;
        stats.weightsKept += r.kept;
        stats.weightsTotal += t.values.length;
        return { name: t.name, shape: [...t.shape], values: r.values };
      });
      return { tensors: out, stats };
    },
  };
  return c;
}

function countDiffering(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

function countNonzero(a: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) n++;
  return n;
}

const clipWeights = weightCompressor({
  name: 'clip-weights',
  description: 'Replaces every weight with |w| > threshold: saturates to ±threshold, or sets it to `value` if given.',
  params: {
    threshold: { type: 'number', exclusiveMinimum: 0, required: true, description: 'magnitude above which a weight is clipped' },
    value: { type: 'number', description: 'what a clipped weight becomes (default: sign(w)·threshold)' },
  },
  each(values, p) {
    const r = clipImpl(values, p.threshold as number, p.value as number | undefined);
    return { values: r.values, changed: r.changed, kept: values.length };
  },
});

const quantizeWeights = weightCompressor({
  name: 'quantize-weights',
  description: 'Symmetric uniform per-tensor quantization: 2^bits − 1 levels spanning ±max|w|.',
  params: {
    bits: { type: 'integer', minimum: 2, maximum: 16, required: true, description: 'bits per weight' },
  },
  bits: (p) => p.bits as number,
  each(values, p) {
    const r = quantizeSymmetricImpl(values, p.bits as number);
    return { values: r.values, changed: countDiffering(values, r.values), kept: values.length };
  },
});

const pruneWeights = weightCompressor({
  name: 'prune-weights',
  description: 'Magnitude pruning: keeps the fraction `retention` of weights with the largest |w| per tensor.',
  params: {
    retention: { type: 'number', exclusiveMinimum: 0, maximum: 1, required: true, description: 'fraction of weights kept, per tensor' },
  },
  each(values, p) {
    const r = pruneByMagnitudeImpl(values, p.retention as number);
    // Only weights that were nonzero and are now zero count as pruned; zeros stay zeros.
    const after = countNonzero(r.values);
    return { values: r.values, changed: countNonzero(values) - after, kept: after };
  },
});

const activationParams: Record<string, ParamSpec> = {
  bits: { type: 'integer', minimum: 1, maximum: 16, required: true, description: 'bits per activation' },
};

const quantizeActivations: ActivationCompressor = {
  kind: 'activations',
  name: 'quantize-activations',
  description: 'Asymmetric uniform fake quantization of hidden activations with 2^bits levels over a min/max-calibrated range that includes 0.',
  params: activationParams,
  validate: (params, path) => validateParams(activationParams, params, path),
  calibrate(samples, params) {
    assertValid(quantizeActivations, params);
    return calibrateMinMax(samples);
  },
  // Hot path: no full validation per batch; fakeQuantizeInPlace still rejects bad bits.
  quantize: (values, range, params) => fakeQuantizeInPlace(values, range, params.bits as number),
  bits(params) {
    assertValid(quantizeActivations, params);
    return params.bits as number;
  },
};

const all: Compressor[] = [clipWeights, quantizeWeights, pruneWeights, quantizeActivations];
for (const c of all) compressorRegistry.register(c.name, c);
