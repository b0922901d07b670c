import * as tf from '@tensorflow/tfjs';
import { createRegistry } from '@squash/core';
import { assertModelSpec, planLayers, type ModelSpec } from './layer_spec.js';

export type { ModelSpec, LayerSpec } from './layer_spec.js';

/** Named architectures users refer to by name in experiment files. */
export const modelRegistry = createRegistry<ModelSpec>('model');

modelRegistry.register('article-mlp', {
  name: 'article-mlp',
  // The founding article's network: Flatten → Dense 128 relu → Dense 10 softmax.
  layers: [{ type: 'flatten' }, { type: 'dense', units: 128, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }],
});

modelRegistry.register('lenet-300-100', {
  name: 'lenet-300-100',
  // LeCun et al. 1998 / Han et al. 2015: 784-300-100-10, the Deep Compression MNIST MLP.
  layers: [
    { type: 'flatten' },
    { type: 'dense', units: 300, activation: 'relu' },
    { type: 'dense', units: 100, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
});

modelRegistry.register('lenet-5', {
  name: 'lenet-5',
  // Caffe's examples/mnist/lenet.prototxt, the Deep Compression LeNet-5: no activation after the
  // convolutions (pooling only), 431,080 parameters.
  layers: [
    { type: 'conv2d', filters: 20, kernelSize: 5 },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'conv2d', filters: 50, kernelSize: 5 },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 500, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
});

/** A model given by name or inline as `{name, layers}`; an inline spec is checked (ConfigError at the layer). */
export function resolveModelSpec(spec: string | ModelSpec): ModelSpec {
  if (typeof spec === 'string') return modelRegistry.get(spec);
  assertModelSpec(spec);
  return spec;
}

/** Seeds per kernel: dense layers keep the numbers they had before convolutions existed. */
const initSeed = (seed: number, name: string) => {
  const [kind, n] = name.split('_') as [string, string];
  return seed * 1000 + (kind === 'conv' ? 500 : 0) + Number(n);
};

/**
 * Builds a tfjs model. Layers get fixed names (`conv_1`, `dense_1`, …; see `planLayers`) so weight
 * names are the same in every process, and seeded Glorot-uniform kernels so the same seed gives
 * the same model. A [height, width] input is reshaped to [height, width, 1] before the first
 * convolution.
 */
export function buildModel(spec: ModelSpec, inputShape: number[], seed: number): tf.Sequential {
  const model = tf.sequential({ name: spec.name.replace(/[^A-Za-z0-9_]/g, '_') });
  planLayers(spec, inputShape).forEach((p, i) => {
    const base = { ...(i === 0 ? { inputShape } : {}), name: p.name };
    const init = () => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: initSeed(seed, p.name) }), biasInitializer: 'zeros' as const });
    const l = p.spec;
    switch (p.type) {
      case 'reshape':
        return model.add(tf.layers.reshape({ ...base, targetShape: p.outShape }));
      case 'flatten':
        return model.add(tf.layers.flatten(base));
      case 'dense':
        if (l?.type !== 'dense') break;
        return model.add(tf.layers.dense({ ...base, ...init(), units: l.units, activation: l.activation ?? 'linear' }));
      case 'conv2d':
        if (l?.type !== 'conv2d') break;
        return model.add(tf.layers.conv2d({
          ...base, ...init(), filters: l.filters, kernelSize: l.kernelSize, strides: l.strides ?? 1,
          padding: l.padding ?? 'valid', activation: l.activation ?? 'linear', dataFormat: 'channelsLast',
        }));
      case 'maxPool2d':
        if (l?.type !== 'maxPool2d') break;
        return model.add(tf.layers.maxPooling2d({ ...base, poolSize: l.poolSize, strides: l.strides ?? l.poolSize, padding: 'valid', dataFormat: 'channelsLast' }));
    }
    throw new Error(`buildModel: planned layer ${p.name} does not match its spec`);
  });
  return model;
}
