import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildLayersModel, type KernelRole } from './layers.js';
import { activationPoints, layerNames, type ModelSpec, specGraph } from './spec.js';

/** Each layer as `name Class [per-sample shape] role:shape …`, weights in tfjs' order. */
function describeModel(model: tf.LayersModel): string[] {
  return model.layers
    .filter((l) => l.getClassName() !== 'InputLayer')
    .map((l) => {
      const shape = (l.outputShape as number[]).slice(1).join(',');
      const weights = l.weights.map((w) => ` ${w.originalName.split('/').pop()}:${w.shape.join('x')}`).join('');
      return `${l.name} ${l.getClassName()} [${shape}]${weights}`;
    });
}

const zeros = { kernelInitializer: () => 'zeros' as const };

// A chain through every single-input layer type, from flat 784-value samples.
const CHAIN: ModelSpec = {
  name: 'chain of every type',
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
    { type: 'maxPool2d', poolSize: 2, padding: 'same' },
    { type: 'globalMaxPool2d' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

// A residual block and two branches joined by a concatenation.
const GRAPH: ModelSpec = {
  name: 'graph',
  layers: [
    { type: 'conv2d', name: 'stem', filters: 8, kernelSize: 3, strides: 2, useBias: false },
    { type: 'batchNorm', name: 'stem_bn', momentum: 0.9 },
    { type: 'activation', name: 'stem_relu', activation: 'relu' },
    { type: 'conv2d', name: 'b1_conv_a', filters: 8, kernelSize: 3, padding: 'same' },
    { type: 'batchNorm' },
    { type: 'activation', activation: 'relu' },
    { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same' },
    { type: 'add', name: 'b1_add', inputs: ['conv_1', 'stem_relu'] },
    { type: 'maxPool2d', name: 'pool', poolSize: 2 },
    { type: 'depthwiseConv2d', name: 'dw', kernelSize: 3, padding: 'same', depthMultiplier: 2 },
    { type: 'separableConv2d', name: 'sep', filters: 8, kernelSize: 3, activation: 'relu', inputs: ['pool'] },
    { type: 'zeroPadding2d', pad: 1 },
    { type: 'concatenate', name: 'cat', inputs: ['dw', 'pad_1'] },
    { type: 'globalAvgPool2d' },
    { type: 'dense', name: 'out', units: 10, activation: 'softmax' },
  ],
};

describe('buildLayersModel', () => {
  it('builds a chain of every single-input layer type as a Sequential, named and shaped as planned', () => {
    const model = buildLayersModel(CHAIN, [784], zeros);
    expect(model.getClassName()).toBe('Sequential');
    expect(model.name).toBe('chain_of_every_type');
    expect(describeModel(model)).toEqual([
      'reshape_1 Reshape [28,28]',
      // A convolution reading [height, width] gets a reshape to one channel; unnamed reshapes count first.
      'reshape_2 Reshape [28,28,1]',
      'pad_1 ZeroPadding2D [29,31,1]',
      'dwconv_1 DepthwiseConv2D [14,15,2] depthwise_kernel:3x3x1x2',
      'bn_1 BatchNormalization [14,15,2] gamma:2 moving_mean:2 moving_variance:2',
      'act_1 Activation [14,15,2]',
      'sepconv_1 SeparableConv2D [14,15,5] depthwise_kernel:3x2x2x1 pointwise_kernel:1x1x2x5 bias:5',
      'avgpool_1 AveragePooling2D [13,14,5]',
      'dropout_1 Dropout [13,14,5]',
      'conv_1 Conv2D [13,14,3] kernel:1x1x5x3',
      'maxpool_1 MaxPooling2D [7,7,3]',
      'gmp_1 GlobalMaxPooling2D [3]',
      'dense_1 Dense [10] kernel:3x10 bias:10',
    ]);
    // The −1 is resolved: a saved model.json says what ran.
    expect(model.getLayer('reshape_1').getConfig().targetShape).toEqual([28, 28]);
    const bn = model.getLayer('bn_1').getConfig();
    expect([bn.epsilon, bn.momentum, bn.center, bn.scale, bn.axis]).toEqual([0.01, 0.99, false, true, -1]);
    expect(model.getLayer('act_1').getConfig().activation).toBe('swish');
    expect(model.getLayer('avgpool_1').getConfig().strides).toEqual([1, 1]);
    expect(model.getLayer('maxpool_1').getConfig().strides).toEqual([2, 2]);
    expect(model.getLayer('sepconv_1').getConfig().activation).toBe('elu');
    expect(model.getLayer('dropout_1').getConfig().rate).toBe(0.3);
  });

  it('builds a graph as a functional model, merging and branching by name', () => {
    const model = buildLayersModel(GRAPH, [28, 28], zeros);
    expect(model.getClassName()).toBe('Model');
    expect(model.inputs[0]!.name).toMatch(/^input/);
    // In tfjs' topological order (its own, as for any functional model).
    expect(describeModel(model)).toEqual([
      'reshape_1 Reshape [28,28,1]',
      'stem Conv2D [13,13,8] kernel:3x3x1x8',
      'stem_bn BatchNormalization [13,13,8] gamma:8 beta:8 moving_mean:8 moving_variance:8',
      'stem_relu Activation [13,13,8]',
      'b1_conv_a Conv2D [13,13,8] kernel:3x3x8x8 bias:8',
      'bn_1 BatchNormalization [13,13,8] gamma:8 beta:8 moving_mean:8 moving_variance:8',
      'act_1 Activation [13,13,8]',
      'conv_1 Conv2D [13,13,8] kernel:3x3x8x8 bias:8',
      'b1_add Add [13,13,8]',
      'pool MaxPooling2D [6,6,8]',
      'sep SeparableConv2D [4,4,8] depthwise_kernel:3x3x8x1 pointwise_kernel:1x1x8x8 bias:8',
      'dw DepthwiseConv2D [6,6,16] depthwise_kernel:3x3x8x2 bias:16',
      'pad_1 ZeroPadding2D [6,6,8]',
      'cat Concatenate [6,6,24]',
      'gap_1 GlobalAveragePooling2D [24]',
      'out Dense [10] kernel:24x10 bias:10',
    ]);
    const inbound = (name: string) => model.getLayer(name).inboundNodes[0]!.inboundLayers.map((l) => l.name);
    expect(inbound('b1_add')).toEqual(['conv_1', 'stem_relu']);
    expect(inbound('cat')).toEqual(['dw', 'pad_1']);
    expect(inbound('sep')).toEqual(['pool']);
  });

  it('inserts reshapes: to a declared input shape, and before a convolution reading [height, width]', () => {
    // The declared input shape differs from the data's: the entry reshape takes the next free name.
    const entry = buildLayersModel(
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
      zeros,
    );
    expect(describeModel(entry).map((l) => l.split(' kernel')[0])).toEqual([
      'reshape_2 Reshape [28,28,1]',
      'reshape_1 Conv2D [26,26,2]',
      'flatten_1 Flatten [1352]',
      'dense_1 Dense [10]',
    ]);
    // The same shape declared: no reshape.
    const same = buildLayersModel(
      { name: 'same', inputShape: [28, 28], layers: [{ type: 'flatten' }, { type: 'dense', units: 3 }] },
      [28, 28],
      zeros,
    );
    expect(same.layers.map((l) => l.name)).toEqual(['flatten_1', 'dense_1']);
    // A dense layer keeps [height, units]; the convolution after it reads one channel. Branches from `input`.
    const branches = buildLayersModel(
      {
        name: 'branches',
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
      zeros,
    );
    expect(describeModel(branches).map((l) => l.split(' kernel')[0])).toEqual([
      'dense_1 Dense [12,5]',
      'dense_2 Dense [12,5]',
      'concat_1 Concatenate [12,10]',
      'reshape_1 Reshape [12,10,1]',
      'conv_1 Conv2D [10,8,2]',
      'flatten_1 Flatten [160]',
      'dense_3 Dense [3]',
    ]);
  });

  it('asks for each kernel initializer by layer and role; biases start at zero', () => {
    const asked: string[] = [];
    const value: Record<KernelRole, number> = { kernel: 1, depthwise_kernel: 2, pointwise_kernel: 3 };
    const model = buildLayersModel(
      {
        name: 'init',
        layers: [
          { type: 'separableConv2d', filters: 2, kernelSize: 3 },
          { type: 'depthwiseConv2d', kernelSize: 1 },
          { type: 'flatten' },
          { type: 'dense', units: 2 },
        ],
      },
      [6, 6],
      {
        kernelInitializer: (layer, role) => {
          asked.push(`${layer}/${role}`);
          return tf.initializers.constant({ value: value[role] });
        },
      },
    );
    expect(asked).toEqual([
      'sepconv_1/depthwise_kernel',
      'sepconv_1/pointwise_kernel',
      'dwconv_1/depthwise_kernel',
      'dense_1/kernel',
    ]);
    const weights = Object.fromEntries(
      model.layers.flatMap((l) =>
        l
          .getWeights()
          .map((w, i) => [`${l.name}/${l.weights[i]!.originalName.split('/').pop()}`, [...new Set(w.dataSync())]]),
      ),
    );
    expect(weights).toEqual({
      'sepconv_1/depthwise_kernel': [2],
      // tfjs 4.22's SeparableConv2D initializes its pointwise kernel with the depthwise initializer.
      'sepconv_1/pointwise_kernel': [2],
      'sepconv_1/bias': [0],
      'dwconv_1/depthwise_kernel': [2],
      'dwconv_1/bias': [0],
      'dense_1/kernel': [1],
      'dense_1/bias': [0],
    });
  });

  it('says which input no layer before makes', () => {
    const spec: ModelSpec = {
      name: 'bad',
      layers: [
        { type: 'dense', units: 2 },
        { type: 'add', inputs: ['dense_1', 'nope'] },
      ],
    };
    expect(() => buildLayersModel(spec, [4], zeros)).toThrow(/layer add_1 reads nope, which no layer before it makes/);
  });
});

describe('layer names and activation points', () => {
  it('names unnamed layers <prefix>_<n>, skipping names the spec takes', () => {
    const spec: ModelSpec = {
      name: 'names',
      layers: [
        { type: 'conv2d', filters: 1, kernelSize: 1 },
        { type: 'conv2d', filters: 1, kernelSize: 1, name: 'conv_2' },
        { type: 'conv2d', filters: 1, kernelSize: 1 },
        { type: 'globalAvgPool2d' },
        { type: 'dense', units: 2 },
      ],
    };
    expect(layerNames(spec)).toEqual(['conv_1', 'conv_2', 'conv_3', 'gap_1', 'dense_1']);
  });

  it('puts each quantized activation after the batch norms and activations that extend its layer', () => {
    // stem_relu feeds a convolution and the add: its point; conv_1 only feeds the add: none;
    // dw only feeds the concatenation: none (sep feeds a padding); the output layer: none.
    expect(activationPoints(specGraph(GRAPH))).toEqual([
      { name: 'stem', at: 'stem_relu' },
      { name: 'b1_conv_a', at: 'act_1' },
      { name: 'b1_add', at: 'b1_add' },
      { name: 'sep', at: 'sep' },
      { name: 'cat', at: 'cat' },
    ]);
    expect(activationPoints(specGraph(CHAIN))).toEqual([
      { name: 'dwconv_1', at: 'act_1' },
      { name: 'sepconv_1', at: 'sepconv_1' },
      { name: 'conv_1', at: 'conv_1' },
    ]);
  });
});
