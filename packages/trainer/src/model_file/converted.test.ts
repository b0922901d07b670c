import * as tf from '@tensorflow/tfjs';
import type { WeightTensor } from '@squash/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, forward, getWeights, setWeights } from '../index.js';
import { readModelFile } from './index.js';
import { f32, randomizeWeights, tempDir, writeModel } from './__tests__/files.js';

/*
 * Keras 3 files as tensorflowjs_converter writes them (shapes from a Keras 3.4.1 file converted by
 * converter 4.6.0, github.com/imcnaugh/tfjs_issue_demo, tfjs issue #8328, and a Keras 3.10 Sequential
 * converted by 4.22): the topology under `model_config`, InputLayer `batch_shape`, `dtype` as a
 * DTypePolicy object, `module`/`registered_name` keys, inbound nodes as `{args, kwargs}` of
 * `__keras_tensor__`s. Weight names: from `.h5`, each variable's path (`dense/kernel`, and
 * `sequential/dense/kernel` in a Sequential model; a DepthwiseConv2D's kernel is `kernel`); from a
 * `.keras` archive, the archive's own paths (`layers/dense/vars/0`), optimizer state included.
 * The expected outputs come from the same model built with stock tfjs.
 */

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const initializer = (name: string) => ({
  module: 'keras.initializers',
  class_name: name,
  config: { seed: null },
  registered_name: null,
});
const tensor = (from: string, shape: Array<number | null>) => ({
  class_name: '__keras_tensor__',
  config: { shape, dtype: 'float32', keras_history: [from, 0, 0] },
});
type Config = Record<string, unknown>;
function layer(className: string, name: string, config: Config, args?: unknown[], kwargs: Config = {}) {
  return {
    module: 'keras.layers',
    class_name: className,
    config: { name, trainable: true, dtype, ...config },
    registered_name: null,
    build_config: { input_shape: [null, 6, 6, 2] },
    name,
    ...(args ? { inbound_nodes: [{ args, kwargs }] } : {}),
  };
}
const conv = { data_format: 'channels_last', dilation_rate: [1, 1], kernel_regularizer: null, bias_constraint: null };

function topology(modelConfig: Config) {
  return { keras_version: '3.4.1', backend: 'tensorflow', model_config: modelConfig };
}

/** The functional model in Keras 3's serialization: conv, BN, depthwise, add, concatenate, pooling, dense. */
function functionalConfig(denseName: string) {
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'functional',
      trainable: true,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: { batch_shape: [null, 6, 6, 2], dtype: 'float32', sparse: false, name: 'input_layer' },
          registered_name: null,
          name: 'input_layer',
          inbound_nodes: [],
        },
        layer(
          'Conv2D',
          'conv2d',
          {
            ...conv,
            filters: 4,
            kernel_size: [3, 3],
            strides: [1, 1],
            padding: 'same',
            groups: 1,
            activation: 'relu',
            use_bias: true,
            kernel_initializer: initializer('GlorotUniform'),
          },
          [tensor('input_layer', [null, 6, 6, 2])],
          { training: false },
        ),
        layer(
          'BatchNormalization',
          'batch_normalization',
          { axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true, synchronized: false },
          [tensor('conv2d', [null, 6, 6, 4])],
        ),
        layer(
          'DepthwiseConv2D',
          'depthwise_conv2d',
          { ...conv, kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 1, activation: 'linear' },
          [tensor('batch_normalization', [null, 6, 6, 4])],
        ),
        // Keras 3 passes a merge layer's inputs as one list argument.
        layer('Add', 'add', {}, [
          [tensor('depthwise_conv2d', [null, 6, 6, 4]), tensor('batch_normalization', [null, 6, 6, 4])],
        ]),
        layer('Concatenate', 'concatenate', { axis: -1 }, [
          [tensor('add', [null, 6, 6, 4]), tensor('conv2d', [null, 6, 6, 4])],
        ]),
        layer('GlobalAveragePooling2D', 'global_average_pooling2d', { data_format: 'channels_last', keepdims: false }, [
          tensor('concatenate', [null, 6, 6, 8]),
        ]),
        layer('Dense', denseName, { units: 3, activation: 'silu', use_bias: true }, [
          tensor('global_average_pooling2d', [null, 8]),
        ]),
      ],
      input_layers: [['input_layer', 0, 0]],
      output_layers: [[denseName, 0, 0]],
    },
    registered_name: 'Functional',
  };
}

/** The same functional model in stock tfjs, with random weights. */
function stockFunctional(denseName: string): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2], name: 'input_layer' });
  const c = tf.layers
    .conv2d({ name: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' })
    .apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'batch_normalization' }).apply(c) as tf.SymbolicTensor;
  const dw = tf.layers
    .depthwiseConv2d({ name: 'depthwise_conv2d', kernelSize: 3, padding: 'same' })
    .apply(bn) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'add' }).apply([dw, bn]) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'concatenate' }).apply([sum, c]) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(cat);
  const out = tf.layers.dense({ name: denseName, units: 3, activation: 'swish' }).apply(gap) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  randomizeWeights(m, 11);
  return m;
}

/** A manifest and one shard holding `weights` under the names `rename` gives them. */
function manifest(weights: Array<WeightTensor & { as: string }>, extra: Array<{ name: string; shape: number[] }> = []) {
  const all = [
    ...weights.map((w) => ({ name: w.as, shape: w.shape, values: Array.from(w.values) })),
    ...extra.map((e) => ({ ...e, values: new Array(e.shape.reduce((a, b) => a * b, 1)).fill(0.5) })),
  ];
  return {
    weightsManifest: [
      { paths: ['group1-shard1of1.bin'], weights: all.map(({ name, shape }) => ({ name, shape, dtype: 'float32' })) },
    ],
    shards: { 'group1-shard1of1.bin': f32(all.flatMap((w) => w.values)) },
  };
}

/** Reads the file and checks our model computes what the stock tfjs model does. */
function expectSameOutputs(path: string, stock: tf.LayersModel) {
  const file = readModelFile(path);
  const ours = buildModel(file.spec, file.spec.inputShape!, 0);
  setWeights(ours, file.weights);
  const x = tf.randomNormal([4, ...file.spec.inputShape!], 0, 1, 'float32', 5);
  const diff = tf.max(tf.abs(tf.sub(forward(ours, x), stock.predict(x) as tf.Tensor))).dataSync()[0]!;
  expect(diff).toBeLessThan(1e-5);
  return file;
}

describe('Keras 3 files converted by tensorflowjs_converter', () => {
  it('reads a functional model converted from .h5 (batch_shape, DTypePolicy, {args, kwargs} nodes)', () => {
    const stock = stockFunctional('dense');
    // Keras 3 names the depthwise kernel `kernel`.
    const weights = getWeights(stock).map((w) => ({ ...w, as: w.name.replace('depthwise_kernel', 'kernel') }));
    const { weightsManifest, shards } = manifest(weights);
    const dir = tempDir();
    const path = writeModel(
      dir,
      {
        format: 'layers-model',
        generatedBy: 'keras v3.4.1',
        convertedBy: 'TensorFlow.js Converter v4.6.0',
        modelTopology: topology(functionalConfig('dense')),
        weightsManifest,
      },
      shards,
    );
    const file = expectSameOutputs(path, stock);
    expect(file.spec.inputShape).toEqual([6, 6, 2]);
    expect(file.spec.layers.find((l) => l.name === 'add')!.inputs).toEqual(['depthwise_conv2d', 'batch_normalization']);
    expect(file.spec.layers.find((l) => l.name === 'conv2d')!.inputs).toEqual(['input']);
    expect(file.spec.layers.at(-1)).toMatchObject({ type: 'dense', activation: 'swish' });
    expect(file.weights.map((w) => w.name)).toContain('depthwise_conv2d/depthwise_kernel');
  });

  it('reads a Sequential model converted from .h5 (weights named sequential/<layer>/<role>)', () => {
    const stock = tf.sequential({
      layers: [
        tf.layers.dense({ name: 'dense', inputShape: [5], units: 4, activation: 'relu' }),
        tf.layers.batchNormalization({ name: 'batch_normalization', epsilon: 1e-5 }),
        tf.layers.dropout({ name: 'dropout', rate: 0.2 }),
        tf.layers.dense({ name: 'dense_1', units: 3, activation: 'softmax' }),
      ],
    });
    randomizeWeights(stock, 3);
    const { weightsManifest, shards } = manifest(getWeights(stock).map((w) => ({ ...w, as: `sequential/${w.name}` })));
    const modelConfig = {
      class_name: 'Sequential',
      config: {
        name: 'sequential',
        trainable: true,
        dtype,
        layers: [
          {
            class_name: 'InputLayer',
            config: { batch_shape: [null, 5], dtype: 'float32', sparse: false, ragged: false, name: 'input_layer' },
          },
          { class_name: 'Dense', config: { name: 'dense', dtype, units: 4, activation: 'relu', use_bias: true } },
          {
            class_name: 'BatchNormalization',
            config: {
              name: 'batch_normalization',
              dtype,
              axis: -1,
              epsilon: 1e-5,
              momentum: 0.99,
              center: true,
              scale: true,
            },
          },
          { class_name: 'Dropout', config: { name: 'dropout', dtype, rate: 0.2, seed: null, noise_shape: null } },
          { class_name: 'Dense', config: { name: 'dense_1', dtype, units: 3, activation: 'softmax', use_bias: true } },
        ],
        build_input_shape: [null, 5],
      },
    };
    const dir = tempDir();
    const path = writeModel(dir, { modelTopology: topology(modelConfig), weightsManifest }, shards);
    const file = expectSameOutputs(path, stock);
    expect(file.spec.layers.map((l) => l.name)).toEqual(['dense', 'batch_normalization', 'dropout', 'dense_1']);
    expect(file.spec.layers[1]).toMatchObject({ type: 'batchNorm', epsilon: 1e-5 });
  });

  it('reads a model converted from a .keras archive (weights by archive path, optimizer state skipped)', () => {
    // The Dense layer is named `classifier`; the archive still calls it `layers/dense` (by class, not name).
    const stock = stockFunctional('classifier');
    const archivePath: Record<string, string> = {
      conv2d: 'layers/conv2d',
      batch_normalization: 'layers/batch_normalization',
      depthwise_conv2d: 'layers/depthwise_conv2d',
      classifier: 'layers/dense',
    };
    // Keras' variable order per layer, the same as tfjs' (and the IR's) weight slots.
    const order = ['kernel', 'depthwise_kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance'];
    const weights = getWeights(stock).map((w) => {
      const [layerName, role] = w.name.split('/') as [string, string];
      const roles = getWeights(stock)
        .filter((o) => o.name.startsWith(`${layerName}/`))
        .map((o) => o.name.split('/')[1]!)
        .sort((a, b) => order.indexOf(a) - order.indexOf(b));
      return { ...w, as: `${archivePath[layerName]}/vars/${roles.indexOf(role)}` };
    });
    const { weightsManifest, shards } = manifest(weights, [
      { name: 'optimizer/vars/0', shape: [] },
      { name: 'optimizer/vars/1', shape: [3, 3, 2, 4] },
    ]);
    // The converter drops `module` and `registered_name` from a .keras config.
    const modelConfig = JSON.parse(
      JSON.stringify(functionalConfig('classifier'), (k, v) =>
        k === 'module' || k === 'registered_name' ? undefined : v,
      ),
    );
    const dir = tempDir();
    const path = writeModel(dir, { modelTopology: topology(modelConfig), weightsManifest }, shards);
    const file = expectSameOutputs(path, stock);
    expect(file.weights.map((w) => w.name)).toContain('classifier/kernel');
    expect(file.weights).toHaveLength(getWeights(stock).length);
  });

  it('reads a Sequential model that keeps its input shape only in build_input_shape', () => {
    const modelConfig = {
      class_name: 'Sequential',
      config: {
        name: 'tiny',
        layers: [{ class_name: 'Dense', config: { name: 'dense', dtype, units: 2, activation: 'linear' } }],
        build_input_shape: [null, 3],
      },
    };
    const { weightsManifest, shards } = manifest([
      { name: 'dense/kernel', as: 'tiny/dense/kernel', shape: [3, 2], values: new Float32Array(6).fill(1) },
      { name: 'dense/bias', as: 'tiny/dense/bias', shape: [2], values: new Float32Array(2) },
    ]);
    const file = readModelFile(
      writeModel(tempDir(), { modelTopology: topology(modelConfig), weightsManifest }, shards),
    );
    expect(file.spec).toEqual({
      name: 'tiny',
      inputShape: [3],
      layers: [{ type: 'dense', units: 2, name: 'dense', inputs: ['input'] }],
    });
  });
});

describe('Keras 2 files converted by tensorflowjs_converter', () => {
  it('reads a functional MobileNet-style model from .h5 (BN axis [3], ReLU 6.0, padding pairs, reshape head)', () => {
    const input = tf.input({ shape: [8, 8, 3], name: 'input_1' });
    const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor) => l.apply(x) as tf.SymbolicTensor;
    let x = apply(
      tf.layers.zeroPadding2d({
        name: 'conv1_pad',
        padding: [
          [0, 1],
          [0, 1],
        ],
      }),
      input,
    );
    x = apply(tf.layers.conv2d({ name: 'conv1', filters: 4, kernelSize: 3, strides: 2, useBias: false }), x);
    x = apply(tf.layers.batchNormalization({ name: 'conv1_bn' }), x);
    x = apply(tf.layers.reLU({ name: 'conv1_relu', maxValue: 6 }), x);
    x = apply(tf.layers.depthwiseConv2d({ name: 'conv_dw_1', kernelSize: 3, padding: 'same', useBias: false }), x);
    x = apply(tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }), x);
    x = apply(tf.layers.reshape({ name: 'reshape_1', targetShape: [1, 1, 4] }), x);
    x = apply(tf.layers.dropout({ name: 'dropout', rate: 0.001 }), x);
    x = apply(tf.layers.conv2d({ name: 'conv_preds', filters: 3, kernelSize: 1, padding: 'same' }), x);
    x = apply(tf.layers.reshape({ name: 'reshape_2', targetShape: [3] }), x);
    const out = apply(tf.layers.activation({ name: 'predictions', activation: 'softmax' }), x);
    const stock = tf.model({ inputs: input, outputs: out });
    randomizeWeights(stock, 21);

    const conv2 = {
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      groups: 1,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
    };
    const names = [
      'input_1',
      'conv1_pad',
      'conv1',
      'conv1_bn',
      'conv1_relu',
      'conv_dw_1',
      'global_average_pooling2d',
      'reshape_1',
      'dropout',
      'conv_preds',
      'reshape_2',
      'predictions',
    ];
    const configs: Array<[string, Config]> = [
      ['InputLayer', { batch_input_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false, ragged: false }],
      [
        'ZeroPadding2D',
        {
          padding: [
            [0, 1],
            [0, 1],
          ],
          data_format: 'channels_last',
        },
      ],
      [
        'Conv2D',
        {
          ...conv2,
          filters: 4,
          kernel_size: [3, 3],
          strides: [2, 2],
          padding: 'valid',
          activation: 'linear',
          use_bias: false,
        },
      ],
      ['BatchNormalization', { axis: [3], momentum: 0.99, epsilon: 0.001, center: true, scale: true }],
      ['ReLU', { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }],
      [
        'DepthwiseConv2D',
        {
          ...conv2,
          kernel_size: [3, 3],
          strides: [1, 1],
          padding: 'same',
          depth_multiplier: 1,
          activation: 'linear',
          use_bias: false,
        },
      ],
      ['GlobalAveragePooling2D', { data_format: 'channels_last', keepdims: false }],
      ['Reshape', { target_shape: [1, 1, 4] }],
      ['Dropout', { rate: 0.001, noise_shape: null, seed: null }],
      [
        'Conv2D',
        {
          ...conv2,
          filters: 3,
          kernel_size: [1, 1],
          strides: [1, 1],
          padding: 'same',
          activation: 'linear',
          use_bias: true,
        },
      ],
      ['Reshape', { target_shape: [3] }],
      ['Activation', { activation: 'softmax' }],
    ];
    const modelConfig = {
      class_name: 'Functional',
      config: {
        name: 'mobilenet_1.00_8',
        layers: configs.map(([className, config], i) => ({
          class_name: className,
          config: { name: names[i], trainable: true, dtype: 'float32', ...config },
          name: names[i],
          inbound_nodes: i === 0 ? [] : [[[names[i - 1], 0, 0, {}]]],
        })),
        input_layers: [['input_1', 0, 0]],
        output_layers: [['predictions', 0, 0]],
      },
    };
    // The converter drops the `:0` TensorFlow adds; a name that kept it is read as well.
    const weights = getWeights(stock).map((w) => ({ ...w, as: w.name === 'conv_preds/bias' ? `${w.name}:0` : w.name }));
    const { weightsManifest, shards } = manifest(weights);
    const path = writeModel(
      tempDir(),
      {
        format: 'layers-model',
        generatedBy: 'keras v2.15.0',
        convertedBy: 'TensorFlow.js Converter v4.22.0',
        modelTopology: {
          keras_version: '2.15.0',
          backend: 'tensorflow',
          model_config: modelConfig,
          training_config: {},
        },
        weightsManifest,
      },
      shards,
    );
    const file = expectSameOutputs(path, stock);
    expect(file.spec.layers.find((l) => l.name === 'conv1_relu')).toMatchObject({
      type: 'activation',
      activation: 'relu6',
    });
    expect(file.spec.layers.find((l) => l.name === 'conv1')).toMatchObject({ strides: 2, useBias: false });
  });
});
