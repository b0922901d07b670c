import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, FileError, SquashError } from '@squash/core';
import { describe, expect, it } from 'vitest';
import { readModelFile } from './index.js';
import { f32, tempDir, writeModel } from './__tests__/files.js';

type Json = Record<string, any>;

/** A small valid tfjs Sequential model: conv (5×5×1 → 3×3×2), flatten, dense 3. */
function base(): { json: Json; bin: Uint8Array } {
  const json = {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'net',
        layers: [
          {
            class_name: 'Conv2D',
            config: {
              name: 'conv',
              filters: 2,
              kernel_size: [3, 3],
              strides: [1, 1],
              padding: 'valid',
              data_format: 'channels_last',
              dilation_rate: [1, 1],
              activation: 'relu',
              use_bias: true,
              batch_input_shape: [null, 5, 5, 1],
              dtype: 'float32',
            },
          },
          { class_name: 'Flatten', config: { name: 'flatten' } },
          { class_name: 'Dense', config: { name: 'dense', units: 3, activation: 'softmax', use_bias: true } },
        ],
      },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'conv/kernel', shape: [3, 3, 1, 2], dtype: 'float32' },
          { name: 'conv/bias', shape: [2], dtype: 'float32' },
          { name: 'dense/kernel', shape: [18, 3], dtype: 'float32' },
          { name: 'dense/bias', shape: [3], dtype: 'float32' },
        ],
      },
    ],
  };
  return { json, bin: f32(Array.from({ length: 18 + 2 + 54 + 3 }, (_, i) => i / 100)) };
}

/** A functional (Keras 2 form) model: input → dense a → dense b. */
function functional(): { json: Json; bin: Uint8Array } {
  const json = {
    modelTopology: {
      keras_version: '2.15.0',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Functional',
        config: {
          name: 'f',
          layers: [
            {
              class_name: 'InputLayer',
              name: 'in',
              config: { batch_input_shape: [null, 4], name: 'in' },
              inbound_nodes: [],
            },
            { class_name: 'Dense', name: 'a', config: { name: 'a', units: 4 }, inbound_nodes: [[['in', 0, 0, {}]]] },
            { class_name: 'Dense', name: 'b', config: { name: 'b', units: 2 }, inbound_nodes: [[['a', 0, 0, {}]]] },
          ],
          input_layers: [['in', 0, 0]],
          output_layers: [['b', 0, 0]],
        },
      },
    },
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'a/kernel', shape: [4, 4], dtype: 'float32' },
          { name: 'a/bias', shape: [4], dtype: 'float32' },
          { name: 'b/kernel', shape: [4, 2], dtype: 'float32' },
          { name: 'b/bias', shape: [2], dtype: 'float32' },
        ],
      },
    ],
  };
  return { json, bin: f32(new Array(16 + 4 + 8 + 2).fill(0.25)) };
}

const SHOWN = 'models/net/model.json';
const layers = (json: Json) => json.modelTopology.config.layers;
const fLayers = (json: Json) => json.modelTopology.model_config.config.layers;
const manifestWeights = (json: Json) => json.weightsManifest[0].weights;

interface Case {
  name: string;
  model?: () => { json: Json; bin: Uint8Array };
  /** Edits the files in `dir` (model.json is written from `json` afterwards, unless `text` is given). */
  edit: (json: Json, dir: string, bin: Uint8Array) => void | { text?: string; bin?: Uint8Array };
  error: typeof ConfigError | typeof FileError;
  message: RegExp;
  /** The JSON path the error points at. */
  path?: string;
  hint?: RegExp;
}

const cases: Case[] = [
  {
    name: 'a missing shard',
    edit: (_j, dir) => rmSync(join(dir, 'weights.bin')),
    error: FileError,
    message: /weight shard 'weights\.bin' listed in the weights manifest: ENOENT: no such file/,
    path: 'weightsManifest[0].paths[0]',
  },
  {
    name: 'a shard of the wrong length',
    edit: (_j, _d, bin) => ({ bin: bin.slice(0, bin.length - 4) }),
    error: ConfigError,
    message: /shard 'weights\.bin' has 304 bytes; its 4 weights need 308 bytes/,
    path: 'weightsManifest[0]',
    hint: /truncated/,
  },
  {
    name: 'an unknown layer class',
    edit: (j) => {
      layers(j)[1].class_name = 'LSTM';
    },
    error: ConfigError,
    message:
      /layer 'flatten' has class 'LSTM', which is not supported; expected one of InputLayer, Dense, Conv2D, .*Flatten/,
    path: 'modelTopology.config.layers[1].class_name',
  },
  {
    name: 'a weight of the wrong shape',
    edit: (j) => {
      manifestWeights(j)[2].shape = [3, 18];
    },
    error: ConfigError,
    message: /weight 'dense\/kernel' has shape \[3, 18\]; layer 'dense' \(Dense\) needs kernel of shape \[18, 3\]/,
    path: 'weightsManifest[0].weights[2].shape',
  },
  {
    name: 'a missing weight',
    edit: (j, _d, bin) => {
      manifestWeights(j).pop();
      return { bin: bin.slice(0, bin.length - 12) };
    },
    error: ConfigError,
    message:
      /layer 'dense' \(Dense\) needs weight 'dense\/bias' of shape \[3\], which the weights manifest does not list/,
    path: 'modelTopology.config.layers[2]',
  },
  {
    name: 'an extra weight of a layer',
    edit: (j, _d, bin) => {
      manifestWeights(j).push({ name: 'dense/gamma', shape: [3], dtype: 'float32' });
      return { bin: new Uint8Array([...bin, ...f32([1, 1, 1])]) };
    },
    error: ConfigError,
    message: /weight 'dense\/gamma': layer 'dense' \(Dense\) has no weight 'gamma'; its weights are kernel, bias/,
    path: 'weightsManifest[0].weights[4]',
  },
  {
    name: 'a weight of no layer',
    edit: (j, _d, bin) => {
      manifestWeights(j).push({ name: 'head/kernel', shape: [1], dtype: 'float32' });
      return { bin: new Uint8Array([...bin, ...f32([1])]) };
    },
    error: ConfigError,
    message:
      /weight 'head\/kernel' belongs to no layer of the model; expected <layer>\/<role> naming one of its layers with weights \(conv, dense\)/,
    path: 'weightsManifest[0].weights[4]',
  },
  {
    name: 'a file that is not JSON',
    edit: () => ({ text: '{\n  "modelTopology": {,\n}' }),
    error: ConfigError,
    message: /model file is not JSON: .* at line 2, column 21/,
  },
  {
    name: 'an unknown dtype',
    edit: (j) => {
      manifestWeights(j)[1].dtype = 'float64';
    },
    error: ConfigError,
    message:
      /weight 'conv\/bias' has dtype 'float64'; expected float32 or int32, optionally quantized to uint8, uint16, float16/,
    path: 'weightsManifest[0].weights[1].dtype',
  },
  {
    name: 'an unknown quantization',
    edit: (j) => {
      manifestWeights(j)[1].quantization = { dtype: 'int4', min: 0, scale: 1 };
    },
    error: ConfigError,
    message: /weight 'conv\/bias' is quantized to 'int4'; expected float32 or int32, optionally quantized to uint8/,
    path: 'weightsManifest[0].weights[1].quantization',
  },
  {
    name: 'an absolute shard path',
    edit: (j) => {
      j.weightsManifest[0].paths = ['/etc/weights.bin'];
    },
    error: ConfigError,
    message: /weight shard path '\/etc\/weights\.bin' is absolute; expected a file name relative to model\.json/,
    path: 'weightsManifest[0].paths[0]',
  },
  {
    name: 'a shard path leaving the directory',
    edit: (j) => {
      j.weightsManifest[0].paths = ['shards/../../weights.bin'];
    },
    error: ConfigError,
    message: /weight shard path 'shards\/\.\.\/\.\.\/weights\.bin' leaves the model's directory/,
    path: 'weightsManifest[0].paths[0]',
  },
  {
    name: 'an unsupported activation',
    edit: (j) => {
      layers(j)[0].config.activation = 'gelu';
    },
    error: ConfigError,
    message: /layer 'conv' \(Conv2D\): activation 'gelu' is not supported; expected one of relu, relu6, .*silu/,
    path: 'modelTopology.config.layers[0].config.activation',
  },
  {
    name: 'channels_first data',
    edit: (j) => {
      layers(j)[0].config.data_format = 'channels_first';
    },
    error: ConfigError,
    message: /layer 'conv' \(Conv2D\): data_format 'channels_first' is not supported; expected 'channels_last'/,
    path: 'modelTopology.config.layers[0].config.data_format',
  },
  {
    name: 'a dilated convolution',
    edit: (j) => {
      layers(j)[0].config.dilation_rate = [2, 2];
    },
    error: ConfigError,
    message: /layer 'conv' \(Conv2D\): dilation_rate \[2,2\] is not supported; expected 1/,
  },
  {
    name: "Keras 3's hard_sigmoid (not tfjs')",
    edit: (j) => {
      j.modelTopology.keras_version = '3.5.0';
      layers(j)[2].config.activation = 'hard_sigmoid';
    },
    error: ConfigError,
    message: /layer 'dense' \(Dense\): activation 'hard_sigmoid' is not supported in a Keras 3 model/,
  },
  {
    name: 'a leaky ReLU layer',
    edit: (j) => {
      layers(j).splice(1, 0, { class_name: 'ReLU', config: { name: 'leaky', max_value: null, negative_slope: 0.1 } });
    },
    error: ConfigError,
    message: /layer 'leaky' \(ReLU\): negative_slope 0\.1 is not supported; expected 0/,
    path: 'modelTopology.config.layers[1].config.negative_slope',
  },
  {
    name: 'batch norm on another axis',
    edit: (j) => {
      layers(j).splice(1, 0, { class_name: 'BatchNormalization', config: { name: 'bn', axis: 1 } });
    },
    error: ConfigError,
    message:
      /layer 'bn' \(BatchNormalization\): axis 1 is not the last axis of its input \[3, 3, 2\]; expected -1 or 3/,
    path: 'modelTopology.config.layers[1].config.axis',
  },
  {
    name: 'a dense layer straight after a convolution',
    edit: (j) => {
      layers(j).splice(1, 1);
    },
    error: ConfigError,
    message: /layer 'dense' \(Dense\): dense after conv2d needs a \{ type: flatten \} layer first/,
    path: 'modelTopology.config.layers[1]',
  },
  {
    name: 'a window larger than its input',
    edit: (j) => {
      layers(j)[0].config.kernel_size = [7, 7];
    },
    error: ConfigError,
    message: /layer 'conv' \(Conv2D\): conv2d window 7×7 is larger than its input 5×5/,
    path: 'modelTopology.config.layers[0]',
  },
  {
    name: 'an input shape with a free dimension',
    edit: (j) => {
      layers(j)[0].config.batch_input_shape = [null, null, 5, 1];
    },
    error: ConfigError,
    message:
      /the model has input shape \[null,null,5,1\]; expected \[null, d1, d2, …\] with every sample dimension a fixed positive integer/,
  },
  {
    name: 'a nested model',
    edit: (j) => {
      layers(j)[1] = { class_name: 'Sequential', config: { name: 'inner', layers: [] } };
    },
    error: ConfigError,
    message: /layer 'inner' is a nested model \(Sequential\); only flat models are supported/,
  },
  {
    name: 'no modelTopology',
    edit: (j) => {
      delete j.modelTopology;
    },
    error: ConfigError,
    message: /the model file has no modelTopology/,
  },
  {
    name: 'no weightsManifest',
    edit: (j) => {
      delete j.weightsManifest;
    },
    error: ConfigError,
    message: /the model file has no weightsManifest/,
  },
  {
    name: 'a graph model',
    edit: (j) => {
      j.format = 'graph-model';
    },
    error: ConfigError,
    message: /TensorFlow\.js graph model, which has no layers/,
  },
  {
    name: 'a layer used twice',
    model: functional,
    edit: (j) => {
      fLayers(j)[2].inbound_nodes.push([['a', 0, 0, {}]]);
    },
    error: ConfigError,
    message: /layer 'b' \(Dense\) is called 2 times: a layer used twice \(shared layers\) is not supported/,
    path: 'modelTopology.model_config.config.layers[2].inbound_nodes',
  },
  {
    name: 'two outputs',
    model: functional,
    edit: (j) => {
      j.modelTopology.model_config.config.output_layers.push(['a', 0, 0]);
    },
    error: ConfigError,
    message: /the model has 2 outputs; only single-input, single-output models are supported/,
  },
  {
    name: 'a layer not leading to the output',
    model: functional,
    edit: (j) => {
      j.modelTopology.model_config.config.output_layers = [['a', 0, 0]];
    },
    error: ConfigError,
    message: /layer 'b' \(Dense\) does not lead to the model's output 'a'/,
  },
  {
    name: 'a SeparableConv2D saved by tfjs without its depth_multiplier',
    edit: (j, _d) => {
      layers(j)[0] = {
        class_name: 'SeparableConv2D',
        config: { name: 'conv', filters: 2, kernel_size: [3, 3], batch_input_shape: [null, 5, 5, 1] },
      };
      j.weightsManifest[0].weights.splice(
        0,
        2,
        { name: 'conv/depthwise_kernel', shape: [3, 3, 1, 2], dtype: 'float32' },
        { name: 'conv/pointwise_kernel', shape: [1, 1, 2, 2], dtype: 'float32' },
        { name: 'conv/bias', shape: [2], dtype: 'float32' },
      );
      return { bin: f32(new Array(18 + 4 + 2 + 54 + 3).fill(0.1)) };
    },
    error: ConfigError,
    message:
      /weight 'conv\/depthwise_kernel' has shape \[3, 3, 1, 2\]; layer 'conv' \(SeparableConv2D\) needs depthwise_kernel of shape \[3, 3, 1, 1\]/,
    hint: /add "depth_multiplier": 2 to modelTopology\.config\.layers\[0\]\.config/,
  },
];

function write(model: { json: Json; bin: Uint8Array }, edit: Case['edit']): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'weights.bin'), model.bin);
  const changed = edit(model.json, dir, model.bin) ?? {};
  if (changed.bin) writeFileSync(join(dir, 'weights.bin'), changed.bin);
  return writeModel(dir, changed.text ?? model.json);
}

function errorOf(fn: () => unknown): SquashError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SquashError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('broken model files', () => {
  it('the unbroken files read (so each case fails for its own reason)', () => {
    for (const model of [base, functional]) expect(readModelFile(write(model(), () => {})).weights).toHaveLength(4);
  });

  it.each(cases)('$name: a clear error naming the file', (c) => {
    const path = write((c.model ?? base)(), c.edit);
    const e = errorOf(() => readModelFile(path, { shownAs: SHOWN }));
    expect(e).toBeInstanceOf(c.error);
    expect(e.message).toMatch(c.message);
    expect(e.location?.file).toBe(SHOWN);
    expect(e.describe()).toContain(SHOWN);
    if (c.path) expect(e.location?.path).toBe(c.path);
    if (c.hint) expect(e.hint).toMatch(c.hint);
    expect(e.exitCode).toBe(2);
  });

  it('a path that does not exist: a FileError naming the path as written', () => {
    const e = errorOf(() => readModelFile(join(tempDir(), 'nope', 'model.json'), { shownAs: 'nope/model.json' }));
    expect(e).toBeInstanceOf(FileError);
    expect((e as FileError).code).toBe('ENOENT');
    expect(e.describe()).toBe('nope/model.json: reading the model file: ENOENT: no such file or directory');
  });

  it('a file that is not JSON names the line and column of the error', () => {
    const path = write(base(), () => ({ text: '{\n  "modelTopology": {,\n}' }));
    const e = errorOf(() => readModelFile(path, { shownAs: SHOWN }));
    expect(e.location).toMatchObject({ file: SHOWN, line: 2, column: 21 });
    expect(e.describe()).toMatch(/^models\/net\/model\.json:2:21: model file is not JSON/);
  });
});
