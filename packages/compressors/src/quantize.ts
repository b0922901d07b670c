import { countNonzero } from '@squash/contract';
import { ConfigError } from '@squash/core';
import type { WeightStats } from './compressor.js';
import { dequantize, quantizeTensor, SCHEME_BITS } from './quant/index.js';
import { OUTPUT_AXIS, QUANT_SCHEMES, type QuantScheme } from './quantized_tensor.js';
import { countDiffering, createWeightCompressor, totalWeights, withValues } from './weight_compressor.js';

/**
 * Weight quantization to a codebook per tensor or per output channel; the schemes themselves are
 * in quant/ (one file each), chosen by `quantizeTensor`. The article's formula,
 * round(w / 2^(b−1)) · 2^(b−1), steps by 2^(b−1) whatever the weights, so every weight of a
 * typical network (|w| ≪ 1) would round to zero; the uniform schemes implement its intent
 * instead: 2^b − 1 (or 2^b) levels spread over the tensor's own range.
 */
export const quantizeWeightsConfig = createWeightCompressor({
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
    scheme: {
      type: 'string',
      enum: [...QUANT_SCHEMES],
      default: 'symmetric',
      description: 'codebook scheme (default symmetric)',
    },
    granularity: {
      type: 'string',
      enum: ['tensor', 'channel'],
      default: 'tensor',
      description:
        'one codebook per tensor, or per output channel of every tensor of rank >= 2 (default tensor): the last axis of dense and conv kernels, the C·M channels of a depthwise kernel',
    },
  },
  rule(p, path) {
    const scheme = p.scheme as QuantScheme;
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
    const scheme = p.scheme as QuantScheme;
    const perChannel = p.granularity === 'channel';
    const stats: WeightStats = {
      weightsChanged: 0,
      weightsKept: 0,
      weightsTotal: totalWeights(tensors),
      bits: p.bits as number,
    };
    const quantized = tensors.map((t, i) => {
      const mask = ctx.masks?.[i];
      // A rank-1 tensor's "channels" would be single weights, each its own codebook: per tensor.
      const channelAxis = perChannel && t.shape.length >= 2 ? (t.channelAxis ?? OUTPUT_AXIS) : null;
      const channelSpan = channelAxis === null ? 1 : (t.channelSpan ?? 1);
      return quantizeTensor(t.values, t.shape, { scheme, bits: p.bits as number, channelAxis, channelSpan, mask });
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
