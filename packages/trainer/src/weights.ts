import * as tf from '@tensorflow/tfjs';
import type { WeightTensor } from '@squash/core';
import { KERNEL_ROLES } from './kernel_roles.js';

export { KERNEL_ROLES, isKernel, roleOf } from './kernel_roles.js';

/**
 * Weight tensors named `<layer>/<role>` (`dense_1/kernel`). tfjs makes variable names unique per
 * process (`kernel_3`), so names are rebuilt from the layer name to stay stable across runs.
 */
export function getWeights(model: tf.LayersModel): WeightTensor[] {
  const out: WeightTensor[] = [];
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const role = w.originalName.split('/').pop()!;
      out.push({
        name: `${layer.name}/${role}`,
        shape: [...w.shape] as number[],
        values: w.read().dataSync().slice() as Float32Array,
        ...(Object.hasOwn(KERNEL_ROLES, role) ? KERNEL_ROLES[role] : {}),
      });
    }
  }
  return out;
}

/** Writes tensors back by name; every name must exist in the model with the same shape. */
export function setWeights(model: tf.LayersModel, tensors: WeightTensor[]): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const name = `${layer.name}/${w.originalName.split('/').pop()}`;
      const t = byName.get(name);
      if (!t) return w.read().clone();
      byName.delete(name);
      if (t.shape.join('x') !== w.shape.join('x')) {
        throw new Error(`setWeights: ${name} has shape ${t.shape.join('×')}, model expects ${w.shape.join('×')}`);
      }
      return tf.tensor(t.values, t.shape);
    });
    if (values.length) {
      layer.setWeights(values);
      tf.dispose(values);
    }
  }
  if (byName.size) throw new Error(`setWeights: no such weights in the model: ${[...byName.keys()].join(', ')}`);
}
