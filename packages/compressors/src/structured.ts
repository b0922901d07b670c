import type { ParamSpec, StructureCompressor } from './compressor.js';
import { validateParams } from './params.js';
import { layoutOf } from './quant/common.js';

/**
 * The norm of every slice along `axis`: for a dense kernel [in, out] and axis −1, the norm of
 * each output unit's incoming weights (a column); for a conv kernel [h, w, in, out], of each
 * filter; with `span` > 1 the channel is indexed by that many axes from `axis` on, flattened (a
 * depthwise kernel [kh, kw, C, M]: axis 2, span 2, its C·M output channels). Structured pruning
 * ranks units by it (Li et al. 2017, "Pruning Filters for Efficient ConvNets", use L1; L2 is the
 * other common choice). Summed in float64. Negative axes count from the end.
 */
export function unitNorms(
  values: Float32Array,
  shape: number[],
  axis: number,
  norm: 'l1' | 'l2',
  span = 1,
): Float64Array {
  if (norm !== 'l1' && norm !== 'l2')
    throw new RangeError(`unitNorms: norm must be 'l1' or 'l2', got '${String(norm)}'`);
  if (axis === null) throw new RangeError('unitNorms: axis must be an integer, got null');
  const { outer, channels: units, inner } = layoutOf(shape, axis, values.length, 'unitNorms', span);
  const out = new Float64Array(units);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let u = 0; u < units; u++) {
      let s = 0;
      if (norm === 'l1') for (let j = 0; j < inner; j++, i++) s += Math.abs(values[i]);
      else for (let j = 0; j < inner; j++, i++) s += values[i] * values[i];
      out[u] += s;
    }
  }
  if (norm === 'l2') for (let u = 0; u < units; u++) out[u] = Math.sqrt(out[u]);
  return out;
}

/**
 * Indices of the round(r · count) units with the largest norms — at least one, so a layer is
 * never removed entirely — in ascending index order (the order the trainer slices kernels in).
 * Ties keep the lower index. NaN norms are refused.
 */
export function selectUnitsByNorm(norms: ArrayLike<number>, retention: number): Int32Array {
  if (!(retention > 0 && retention <= 1)) {
    throw new RangeError(`selectUnitsByNorm: retention must be in (0, 1], got ${retention}`);
  }
  const n = norms.length;
  for (let i = 0; i < n; i++)
    if (norms[i] !== norms[i]) throw new RangeError(`selectUnitsByNorm: NaN norm at index ${i}`);
  if (n === 0) return new Int32Array(0);
  const k = Math.max(1, Math.round(retention * n));
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => norms[y] - norms[x] || x - y);
  return Int32Array.from(order.slice(0, k)).sort();
}

const pruneUnitsParams: Record<string, ParamSpec> = {
  retention: {
    type: 'number',
    exclusiveMinimum: 0,
    maximum: 1,
    required: true,
    description: 'fraction of units (output neurons, conv filters) kept per layer, at least one',
  },
  norm: {
    type: 'string',
    enum: ['l2', 'l1'],
    default: 'l2',
    description: "how a unit's incoming weights are ranked (default l2)",
  },
};

/** Structured pruning: the trainer removes the units physically (ranked by `unitNorms`, chosen by `selectUnitsByNorm`). */
export const pruneUnitsConfig: StructureCompressor = {
  kind: 'structure',
  name: 'prune-units',
  description:
    'Structured pruning: removes whole units (dense output neurons, conv filters) with the smallest weight norm, shrinking the layers.',
  params: pruneUnitsParams,
  validate: (params, path) => validateParams(pruneUnitsParams, params, path),
};
