import type { ActivationCompressor, ParamSpec } from './compressor.js';
import { assertValid, validateParams, withDefaults } from './params.js';
import { fakeQuantizeInPlace, type Range } from '@squash/sqz/format';

export { fakeQuantizeInPlace, type Range } from '@squash/sqz/format';

/**
 * Min/max calibration over sample activations. The range always includes 0 so that 0 — every
 * ReLU output that is off — stays exactly representable; for ReLU layers min is 0 and the
 * quantizer becomes unsigned. Non-finite samples are skipped: one overflow in a calibration batch
 * should not stretch the range to infinity and collapse every other value onto one level.
 */
export function calibrateMinMax(values: Float32Array): Range {
  let min = 0;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) {
      if (v !== -Infinity) min = v;
    } else if (v > max) {
      if (v !== Infinity) max = v;
    }
  }
  return { min, max };
}

/** Same as `fakeQuantizeInPlace`, returning a new array and leaving `values` untouched. */
export function fakeQuantizeImpl(values: Float32Array, range: Range, bits: number): Float32Array {
  const out = values.slice();
  fakeQuantizeInPlace(out, range, bits);
  return out;
}

/**
 * Percentile calibration: the range spans the (100 − p)-th to the p-th percentile of the samples
 * (and 0), so a few outliers do not stretch the grid for everyone else — with 4 bits, one
 * activation 10× larger than the rest would otherwise leave the bulk on one or two levels.
 */
export function calibratePercentile(values: Float32Array, percentile: number): Range {
  if (!(percentile > 50 && percentile <= 100))
    throw new RangeError(`calibratePercentile: percentile must be in (50, 100], got ${percentile}`);
  const finite = values.filter((v) => Number.isFinite(v)).sort();
  if (!finite.length) return { min: 0, max: 0 };
  const at = (p: number) =>
    finite[Math.min(finite.length - 1, Math.max(0, Math.round((p / 100) * (finite.length - 1))))]!;
  return { min: Math.min(0, at(100 - percentile)), max: Math.max(0, at(percentile)) };
}

/**
 * Moving-average calibration (TF's FakeQuant with EMA): each batch's min/max moves the range by
 * (1 − momentum) of the difference, starting from the first batch's — smoother than a single
 * global extreme, as quantization-aware training tracks ranges.
 */
export function calibrateMovingAverage(batches: Float32Array[], momentum: number): Range {
  if (!(momentum >= 0 && momentum < 1))
    throw new RangeError(`calibrateMovingAverage: momentum must be in [0, 1), got ${momentum}`);
  let range: Range | undefined;
  for (const b of batches) {
    const r = calibrateMinMax(b);
    range = range
      ? { min: momentum * range.min + (1 - momentum) * r.min, max: momentum * range.max + (1 - momentum) * r.max }
      : r;
  }
  return range ?? { min: 0, max: 0 };
}

const activationParams: Record<string, ParamSpec> = {
  bits: { type: 'integer', minimum: 1, maximum: 16, required: true, description: 'bits per activation' },
  calibration: {
    type: 'string',
    enum: ['minmax', 'percentile', 'ema'],
    default: 'minmax',
    description:
      'how the range is set from training samples: min/max, percentiles, or a moving average of batch min/max (default minmax)',
  },
  percentile: {
    type: 'number',
    exclusiveMinimum: 50,
    maximum: 100,
    default: 99.99,
    description: 'percentile calibration: the upper percentile kept (default 99.99)',
  },
  momentum: {
    type: 'number',
    minimum: 0,
    maximum: 0.999,
    default: 0.9,
    description: 'ema calibration: weight of the running range per batch (default 0.9)',
  },
};

export const quantizeActivationsConfig: ActivationCompressor = {
  kind: 'activations',
  name: 'quantize-activations',
  description:
    'Asymmetric uniform fake quantization of hidden activations with 2^bits levels over a calibrated range that includes 0 (unsigned for ReLU outputs).',
  params: activationParams,
  validate: (params, path) => validateParams(activationParams, params, path),
  calibrate(batches, params) {
    assertValid(quantizeActivationsConfig, params);
    const p = withDefaults(activationParams, params);
    if (p.calibration === 'percentile') return calibratePercentile(concatBatches(batches), p.percentile as number);
    if (p.calibration === 'ema') return calibrateMovingAverage(batches, p.momentum as number);
    return calibrateMinMax(concatBatches(batches));
  },
  // Hot path: no full validation per batch; fakeQuantizeInPlace still rejects bad bits.
  quantize: (values, range, params) => fakeQuantizeInPlace(values, range, params.bits as number),
  bits(params) {
    assertValid(quantizeActivationsConfig, params);
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
