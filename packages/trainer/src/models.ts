import * as tf from '@tensorflow/tfjs';
import { ConfigError, createRegistry } from '@squash/core';

/** One layer of a declarative model. Only what the supported models need; each field is checked. */
export type LayerSpec =
  | { type: 'flatten' }
  | { type: 'dense'; units: number; activation?: 'relu' | 'softmax' | 'linear' | 'tanh' | 'sigmoid' };

export interface ModelSpec {
  name: string;
  layers: LayerSpec[];
}

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

const ACTIVATIONS = ['relu', 'softmax', 'linear', 'tanh', 'sigmoid'];

/** A model given by name or inline as `{name, layers}`. */
export function resolveModelSpec(spec: string | ModelSpec): ModelSpec {
  if (typeof spec === 'string') return modelRegistry.get(spec);
  spec.layers.forEach((l, i) => {
    const where = { location: { path: `model.layers[${i}]` } };
    if (l.type === 'dense') {
      if (!Number.isInteger(l.units) || l.units < 1) throw new ConfigError(`dense units must be a positive integer, got ${l.units}`, where);
      if (l.activation && !ACTIVATIONS.includes(l.activation)) {
        throw new ConfigError(`unknown activation '${l.activation}'; expected one of ${ACTIVATIONS.join(', ')}`, where);
      }
    } else if (l.type !== 'flatten') {
      throw new ConfigError(`unknown layer type '${(l as { type: string }).type}'; expected flatten or dense`, where);
    }
  });
  return spec;
}

/**
 * Builds a tfjs model. Layers get fixed names (`dense_1`, `dense_2`, …) so weight names are the
 * same in every process, and seeded Glorot-uniform kernels so the same seed gives the same model.
 */
export function buildModel(spec: ModelSpec, inputShape: number[], seed: number): tf.Sequential {
  const model = tf.sequential({ name: spec.name.replace(/[^A-Za-z0-9_]/g, '_') });
  let denseCount = 0;
  let flattenCount = 0;
  spec.layers.forEach((l, i) => {
    const first = i === 0 ? { inputShape } : {};
    if (l.type === 'flatten') {
      model.add(tf.layers.flatten({ ...first, name: `flatten_${++flattenCount}` }));
    } else {
      denseCount++;
      model.add(
        tf.layers.dense({
          ...first,
          units: l.units,
          activation: l.activation ?? 'linear',
          name: `dense_${denseCount}`,
          kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 1000 + denseCount }),
          biasInitializer: 'zeros',
        }),
      );
    }
  });
  return model;
}
