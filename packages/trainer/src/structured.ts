import type { WeightTensor } from '@squash/core';
import type { ModelSpec } from './models.js';

/** Columns `keep` of a row-major [rows, cols] matrix. */
function takeColumns(values: Float32Array, rows: number, cols: number, keep: Int32Array): Float32Array {
  const out = new Float32Array(rows * keep.length);
  for (let r = 0; r < rows; r++) for (let j = 0; j < keep.length; j++) out[r * keep.length + j] = values[r * cols + keep[j]!]!;
  return out;
}

/** Rows `keep` of a row-major [rows, cols] matrix. */
function takeRows(values: Float32Array, cols: number, keep: Int32Array): Float32Array {
  const out = new Float32Array(keep.length * cols);
  keep.forEach((r, j) => out.set(values.subarray(r * cols, (r + 1) * cols), j * cols));
  return out;
}

/**
 * Structured pruning made physical: removes dense units (output columns of a layer's kernel, its
 * bias entries, and the matching input rows of the next layer's kernel) and returns the smaller
 * spec and weights, so the rebuilt tfjs model really has fewer parameters and MACs.
 * `keep` maps a dense layer name (`dense_1`) to the sorted unit indices it keeps; the output layer
 * cannot lose units (its units are the classes).
 */
export function removeUnits(spec: ModelSpec, weights: WeightTensor[], keep: Map<string, Int32Array>): { spec: ModelSpec; weights: WeightTensor[] } {
  const byName = new Map(weights.map((w) => [w.name, { ...w, shape: [...w.shape] }]));
  const denseNames: string[] = [];
  spec.layers.forEach((l) => l.type === 'dense' && denseNames.push(`dense_${denseNames.length + 1}`));
  const layers = spec.layers.map((l) => ({ ...l }));
  let denseIndex = 0;
  for (const layer of layers) {
    if (layer.type !== 'dense') continue;
    const name = denseNames[denseIndex++]!;
    const kept = keep.get(name);
    if (!kept) continue;
    const next = denseNames[denseIndex];
    if (!next) throw new Error(`removeUnits: ${name} is the output layer; its units are the classes`);
    const kernel = byName.get(`${name}/kernel`)!;
    const [rows, cols] = kernel.shape as [number, number];
    for (const k of kept) if (k < 0 || k >= cols) throw new Error(`removeUnits: ${name} has ${cols} units, cannot keep unit ${k}`);
    kernel.values = takeColumns(kernel.values, rows, cols, kept);
    kernel.shape = [rows, kept.length];
    const bias = byName.get(`${name}/bias`);
    if (bias) {
      bias.values = Float32Array.from(kept, (k) => bias.values[k]!);
      bias.shape = [kept.length];
    }
    const nextKernel = byName.get(`${next}/kernel`)!;
    nextKernel.values = takeRows(nextKernel.values, nextKernel.shape[1]!, kept);
    nextKernel.shape = [kept.length, nextKernel.shape[1]!];
    layer.units = kept.length;
  }
  return { spec: { ...spec, layers }, weights: weights.map((w) => byName.get(w.name)!) };
}
