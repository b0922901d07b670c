import { createRegistry } from '@squash/core';
import { assertModelSpec, type ModelSpec } from './layer_spec.js';

/** Named architectures users refer to by name in experiment files. */
export const modelRegistry = createRegistry<ModelSpec>('model');

modelRegistry.register('article-mlp', {
  name: 'article-mlp',
  // The founding article's network: Flatten → Dense 128 relu → Dense 10 softmax.
  layers: [
    { type: 'flatten' },
    { type: 'dense', units: 128, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
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
