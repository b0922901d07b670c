import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildLayersModel, specGraph } from '@squash/sqz';
import { activationPoints, planLayers } from './layer_graph.js';
import type { UnlistedEnumValue } from './layer_spec.js';
import { readModelFile } from './model_file/index.js';
import { buildModel, resolveModelSpec, type ModelSpec } from './models.js';
import { getWeights } from './weights.js';

const RESIDUAL_CNN = join(dirname(fileURLToPath(import.meta.url)), '../../../experiments/models/residual-cnn');

// Models of every layer type, chains and graphs, with inserted reshapes (flat data, a dense layer on
// [height, width] before a convolution, a declared input shape) and a name the inserted reshapes must skip.
const SPECS: Array<[ModelSpec | string, number[]]> = [
  ['article-mlp', [28, 28]],
  ['lenet-300-100', [28, 28]],
  ['lenet-5', [28, 28]],
  [
    {
      name: 'every',
      layers: [
        { type: 'reshape', targetShape: [28, -1] },
        {
          type: 'zeroPadding2d',
          pad: [
            [1, 0],
            [2, 1],
          ],
        },
        { type: 'depthwiseConv2d', kernelSize: 3, depthMultiplier: 2, strides: 2, useBias: false },
        { type: 'batchNorm', epsilon: 0.01, center: false },
        { type: 'activation', activation: 'swish' },
        { type: 'separableConv2d', filters: 5, kernelSize: [3, 2], padding: 'same', activation: 'elu' },
        { type: 'avgPool2d', poolSize: 2, strides: 1 },
        { type: 'dropout', rate: 0.3 },
        { type: 'conv2d', filters: 3, kernelSize: 1, useBias: false, activation: 'tanh' },
        { type: 'globalMaxPool2d' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    },
    [784],
  ],
  [
    {
      name: 'rank2',
      layers: [
        { type: 'dense', units: 8, activation: 'relu' },
        { type: 'conv2d', filters: 2, kernelSize: 3 },
        { type: 'globalAvgPool2d' },
        { type: 'dense', units: 10 },
      ],
    },
    [28, 28],
  ],
  [
    {
      name: 'entry',
      inputShape: [28, 28, 1],
      layers: [
        { type: 'conv2d', filters: 2, kernelSize: 3, name: 'reshape_1' },
        { type: 'flatten' },
        { type: 'dense', units: 10 },
      ],
    },
    [784],
  ],
  [
    {
      name: 'graph',
      layers: [
        { type: 'conv2d', name: 'stem', filters: 8, kernelSize: 3, strides: 2, useBias: false },
        { type: 'batchNorm', name: 'stem_bn' },
        { type: 'activation', name: 'stem_relu', activation: 'relu' },
        { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same' },
        { type: 'batchNorm' },
        { type: 'add', inputs: ['bn_1', 'stem_relu'] },
        { type: 'batchNorm' },
        { type: 'maxPool2d', name: 'pool', poolSize: 2 },
        { type: 'depthwiseConv2d', name: 'dw', kernelSize: 3, padding: 'same' },
        { type: 'separableConv2d', name: 'sep', filters: 8, kernelSize: 3, padding: 'same', inputs: ['pool'] },
        { type: 'concatenate', inputs: ['dw', 'sep'] },
        { type: 'flatten' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    },
    [28, 28],
  ],
  [
    {
      name: 'branches from the input',
      layers: [
        { type: 'dense', units: 5, inputs: ['input'] },
        { type: 'dense', units: 5, inputs: ['input'] },
        { type: 'concatenate', inputs: ['dense_1', 'dense_2'] },
        { type: 'conv2d', filters: 2, kernelSize: 3 },
        { type: 'flatten' },
        { type: 'dense', units: 3 },
      ],
    },
    [12, 12],
  ],
];

/** A layer's config without its initializers: those differ by design (seeded here, zeros in the decoder). */
function config(layer: tf.layers.Layer): Record<string, unknown> {
  const c = { ...layer.getConfig() } as Record<string, unknown>;
  for (const k of Object.keys(c)) if (k.endsWith('Initializer')) delete c[k];
  return c;
}

const fileSpec = readModelFile(RESIDUAL_CNN).spec;
const cases: Array<[string, ModelSpec, number[]]> = [
  ...SPECS.map(([s, shape]): [string, ModelSpec, number[]] => {
    const spec = typeof s === 'string' ? resolveModelSpec(s) : s;
    return [spec.name, spec, shape];
  }),
  ['residual-cnn (a model file)', fileSpec, [28, 28]],
];

describe('the trainer builds its models with @squash/sqz, so a decoded .sqz model is the model trained', () => {
  it.each(cases)('%s: the same layers, configs and weights as the decoder builds', (_name, spec, shape) => {
    const trained = buildModel(spec, shape, 3);
    const decoded = buildLayersModel(spec, shape, { kernelInitializer: () => 'zeros' });
    expect(decoded.getClassName()).toBe(trained.getClassName());
    expect(decoded.layers.map((l) => [l.getClassName(), config(l)])).toEqual(
      trained.layers.map((l) => [l.getClassName(), config(l)]),
    );
    expect(getWeights(decoded).map((w) => [w.name, w.shape])).toEqual(
      getWeights(trained).map((w) => [w.name, w.shape]),
    );
    // What planLayers says (sizes, weight slots, costs) is of the model built.
    const plan = planLayers(spec, shape);
    const built = trained.layers.filter((l) => l.getClassName() !== 'InputLayer');
    expect(built.map((l) => l.name).sort()).toEqual(plan.map((p) => p.name).sort());
    for (const p of plan)
      expect(trained.getLayer(p.name).weights.map((w) => w.shape)).toEqual(p.weights.map((w) => w.shape));
    // The decoder places activation quantization from the spec's graph; the trainer's forward pass
    // from the built model's, which has the inserted reshapes: the same points.
    expect(activationPoints(specGraph(spec))).toEqual(activationPoints(plan));
    trained.dispose();
    decoded.dispose();
  });

  it('lists every activation and padding sqz knows', () => {
    const unlisted: [UnlistedEnumValue] extends [never] ? true : false = true;
    expect(unlisted).toBe(true);
  });
});
