import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@squash/backend';
import { buildModel, forward } from './index.js';
import { LAYER_CLASSES, LAYER_TYPES, type LayerSpec, type LayerType, type ModelSpec } from './layer_spec.js';
import { MODEL_FILE_LAYER_CLASSES } from './model_file/index.js';
import * as tf from '@tensorflow/tfjs';

beforeAll(async () => {
  await selectBackend({ prefer: 'cpu' });
});

/** A small model holding one layer of `type`, named `probe`. */
function probe(type: LayerType): ModelSpec {
  const own = { name: 'probe' };
  const single: Partial<Record<LayerType, LayerSpec[]>> = {
    flatten: [{ type: 'flatten', ...own }],
    dense: [{ type: 'flatten' }, { type: 'dense', units: 3, ...own }],
    conv2d: [{ type: 'conv2d', filters: 2, kernelSize: 3, ...own }],
    depthwiseConv2d: [{ type: 'depthwiseConv2d', kernelSize: 3, ...own }],
    separableConv2d: [{ type: 'separableConv2d', filters: 2, kernelSize: 3, ...own }],
    maxPool2d: [{ type: 'maxPool2d', poolSize: 2, ...own }],
    avgPool2d: [{ type: 'avgPool2d', poolSize: 2, ...own }],
    globalAvgPool2d: [{ type: 'globalAvgPool2d', ...own }],
    globalMaxPool2d: [{ type: 'globalMaxPool2d', ...own }],
    batchNorm: [{ type: 'batchNorm', ...own }],
    dropout: [{ type: 'dropout', rate: 0.5, ...own }],
    activation: [{ type: 'activation', activation: 'relu', ...own }],
    zeroPadding2d: [{ type: 'zeroPadding2d', pad: 1, ...own }],
    reshape: [{ type: 'reshape', targetShape: [-1], ...own }],
  };
  const merge = (t: 'add' | 'concatenate'): LayerSpec[] => [
    { type: 'conv2d', name: 'a', filters: 2, kernelSize: 1 },
    { type: 'conv2d', name: 'b', filters: 2, kernelSize: 1, inputs: ['input'] },
    { type: t, inputs: ['a', 'b'], ...own },
  ];
  const layers = type === 'add' || type === 'concatenate' ? merge(type) : single[type]!;
  return { name: `probe-${type}`, layers };
}

describe('LAYER_CLASSES: the one declaration of each type’s tfjs class', () => {
  it.each(LAYER_TYPES)('%s is built as its class, the forward pass reads it, a model file may hold it', (type) => {
    const model = buildModel(probe(type), [6, 6, 1], 1);
    expect(model.getLayer('probe').getClassName()).toBe(LAYER_CLASSES[type]);
    const x = tf.zeros([2, 6, 6, 1]);
    const y = forward(model, x);
    expect(y.shape[0]).toBe(2);
    tf.dispose([x, y]);
    model.dispose();
    expect(MODEL_FILE_LAYER_CLASSES).toContain(LAYER_CLASSES[type]);
  });
});
