import { describe, expect, it } from 'vitest';
import { buildModel, getWeights, isKernel, KERNEL_ROLES, planLayers, type ModelSpec } from './index.js';

const EVERY_WEIGHT_LAYER: ModelSpec = {
  name: 'all',
  layers: [
    { type: 'conv2d', filters: 2, kernelSize: 3 },
    { type: 'batchNorm' },
    { type: 'depthwiseConv2d', kernelSize: 3, depthMultiplier: 2 },
    { type: 'separableConv2d', filters: 3, kernelSize: 1 },
    { type: 'flatten' },
    { type: 'dense', units: 2 },
  ],
};

describe('kernel roles', () => {
  it('are exactly the weight slots layer planning marks as kernels', () => {
    const slots = planLayers(EVERY_WEIGHT_LAYER, [8, 8, 1]).flatMap((p) => p.weights);
    expect([...new Set(slots.filter((w) => w.kernel).map((w) => w.role))].sort()).toEqual(
      Object.keys(KERNEL_ROLES).sort(),
    );
    for (const w of slots) expect(isKernel({ name: `layer/${w.role}` }), w.role).toBe(w.kernel);
  });

  it('getWeights says where each kernel’s output channels lie: a depthwise kernel’s are its C·M', () => {
    const weights = getWeights(buildModel(EVERY_WEIGHT_LAYER, [8, 8, 1], 1));
    const channels = Object.fromEntries(
      weights.filter(isKernel).map((w) => [w.name, [w.shape.join('×'), w.channelAxis, w.channelSpan]]),
    );
    expect(channels).toEqual({
      'conv_1/kernel': ['3×3×1×2', undefined, undefined],
      'dwconv_1/depthwise_kernel': ['3×3×2×2', -2, 2],
      'sepconv_1/depthwise_kernel': ['1×1×4×1', -2, 2],
      'sepconv_1/pointwise_kernel': ['1×1×4×3', undefined, undefined],
      'dense_1/kernel': ['48×2', undefined, undefined],
    });
  });
});
