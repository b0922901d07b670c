import * as tf from '@tensorflow/tfjs';
import { planLayers, type ModelSpec } from './layer_spec.js';

export type { ModelSpec, LayerSpec } from './layer_spec.js';
export { modelRegistry, resolveModelSpec } from './model_specs.js';

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
    const init = () => ({
      kernelInitializer: tf.initializers.glorotUniform({ seed: initSeed(seed, p.name) }),
      biasInitializer: 'zeros' as const,
    });
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
        return model.add(
          tf.layers.conv2d({
            ...base,
            ...init(),
            filters: l.filters,
            kernelSize: l.kernelSize,
            strides: l.strides ?? 1,
            padding: l.padding ?? 'valid',
            activation: l.activation ?? 'linear',
            dataFormat: 'channelsLast',
          }),
        );
      case 'maxPool2d':
        if (l?.type !== 'maxPool2d') break;
        return model.add(
          tf.layers.maxPooling2d({
            ...base,
            poolSize: l.poolSize,
            strides: l.strides ?? l.poolSize,
            padding: 'valid',
            dataFormat: 'channelsLast',
          }),
        );
    }
    throw new Error(`buildModel: planned layer ${p.name} does not match its spec`);
  });
  return model;
}
