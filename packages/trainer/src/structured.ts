import type { WeightTensor } from '@squash/core';
import type { LayerSpec, ModelSpec } from './layer_spec.js';
import { weightLayerNames } from './layer_graph.js';

/**
 * Entries `keep` along the middle axis of a row-major tensor seen as [outer, units, inner]:
 * a kernel's own units are its last axis (inner = 1); the next kernel's inputs are
 * [1, units, out] for a dense kernel after a dense layer, [kh·kw, units, out] for a convolution,
 * and [h·w, units, out] for a dense kernel after flattening a [h, w, units] feature map.
 */
function takeAlong(values: Float32Array, outer: number, units: number, inner: number, keep: Int32Array): Float32Array {
  const out = new Float32Array(outer * keep.length * inner);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (const k of keep) {
      const from = (o * units + k) * inner;
      out.set(values.subarray(from, from + inner), i);
      i += inner;
    }
  }
  return out;
}

/**
 * Structured pruning made physical: removes dense units or conv filters (the last axis of a
 * layer's kernel, its bias entries, and the matching inputs of the next weight layer's kernel —
 * through a flatten, every position's copy of the channel) and returns the smaller spec and
 * weights, so the rebuilt tfjs model really has fewer parameters and MACs (Li et al. 2017 for
 * filters). `keep` maps a layer name (`dense_1`, `conv_2`) to the sorted indices it keeps; the
 * output layer cannot lose units (its units are the classes).
 */
export function removeUnits(
  spec: ModelSpec,
  weights: WeightTensor[],
  keep: Map<string, Int32Array>,
): { spec: ModelSpec; weights: WeightTensor[] } {
  const byName = new Map(weights.map((w) => [w.name, { ...w, shape: [...w.shape] }]));
  const names = weightLayerNames(spec);
  const layers = spec.layers.map((l) => ({ ...l })) as LayerSpec[];
  const weighted = layers.filter((l) => l.type === 'dense' || l.type === 'conv2d');
  for (const name of keep.keys())
    if (!names.includes(name)) throw new Error(`removeUnits: no weight layer ${name}; layers: ${names.join(', ')}`);
  weighted.forEach((layer, j) => {
    const name = names[j]!;
    const kept = keep.get(name);
    if (!kept) return;
    const next = names[j + 1];
    if (!next) throw new Error(`removeUnits: ${name} is the output layer; its units are the classes`);
    const kernel = byName.get(`${name}/kernel`)!;
    const units = kernel.shape[kernel.shape.length - 1]!;
    for (const k of kept)
      if (k < 0 || k >= units) throw new Error(`removeUnits: ${name} has ${units} units, cannot keep unit ${k}`);
    kernel.values = takeAlong(kernel.values, kernel.values.length / units, units, 1, kept);
    kernel.shape[kernel.shape.length - 1] = kept.length;
    const bias = byName.get(`${name}/bias`);
    if (bias) {
      bias.values = Float32Array.from(kept, (k) => bias.values[k]!);
      bias.shape = [kept.length];
    }
    // The next kernel's input axis: second to last ([in, out] or [kh, kw, in, out]); after a
    // flatten it holds positions × units rows, channel fastest (NHWC).
    const nextKernel = byName.get(`${next}/kernel`)!;
    const s = nextKernel.shape;
    const out = s[s.length - 1]!;
    const inputs = s[s.length - 2]!;
    if (inputs % units !== 0)
      throw new Error(`removeUnits: ${next} has ${inputs} inputs, not a multiple of ${name}'s ${units} units`);
    const before = s.slice(0, -2).reduce((a, b) => a * b, 1);
    nextKernel.values = takeAlong(nextKernel.values, before * (inputs / units), units, out, kept);
    s[s.length - 2] = (inputs / units) * kept.length;
    if (layer.type === 'dense') layer.units = kept.length;
    else if (layer.type === 'conv2d') layer.filters = kept.length;
  });
  return { spec: { ...spec, layers }, weights: weights.map((w) => byName.get(w.name)!) };
}
