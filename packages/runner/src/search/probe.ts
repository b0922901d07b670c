import type * as tf from '@tensorflow/tfjs';
import { compressorRegistry, measureEncodings, type QuantizedTensor, withDefaults } from '@squash/compressors';
import type { ParamValue, WeightTensor } from '@squash/core';
import type { Split } from '@squash/datasets';
import { evaluate, getWeights, isKernel, setWeights } from '@squash/trainer';
import { layerOf, paramsForLayer } from '../pipeline/layers.js';
import type { Stage } from '../spec/types.js';
import { curveValues, type LayerCurve, type LayerOption } from './sensitivity.js';
import type { Assignment, Dimension } from './space.js';
import { probeCompressorOf } from './spec.js';
import { huffmanConfig } from '../stages/huffman.js';
import type { WrittenSearchStage } from './types.js';

/** Validation samples a probe evaluates on (the first ones): curves are about ranking, not the last digit. */
export const PROBE_SAMPLES = 5000;
/** Index widths tried for a pruned layer's encoded size when the pipeline lets Huffman pick ('auto'). */
const PROBE_INDEX_BITS = [4, 5, 8, 12];

/** The encoded bytes of one layer's kernels as the pipeline's last encoding stage would write them. */
function encodedBytes(
  tensors: WeightTensor[],
  masks: Map<string, Uint8Array>,
  quantized: Map<string, QuantizedTensor>,
  huffman: { on: boolean; indexBits: number | 'auto' },
): number {
  let total = 0;
  for (const t of tensors) {
    const mask = masks.get(t.name);
    const widths = huffman.indexBits === 'auto' ? PROBE_INDEX_BITS : [huffman.indexBits];
    let best = Infinity;
    for (const indexBits of mask ? widths : [widths[0]!]) {
      const s = measureEncodings({
        name: t.name,
        shape: t.shape,
        values: t.values,
        mask,
        q: quantized.get(t.name),
        indexBits,
      });
      best = Math.min(best, huffman.on ? s.huffman : mask || quantized.has(t.name) ? s.quantized : s.dense);
    }
    total += best;
  }
  return total;
}

/**
 * Per-layer sensitivity curves of a search pipeline on the baseline, without retraining: for each
 * layer with searched dimensions, every combination of its curve values is applied to that layer
 * alone (the pipeline's weight stages in order, their training left out), the model evaluated on
 * validation data, and the layer's kernels encoded as the artifact would store them (real bytes of
 * the same sections, header excluded). The model's weights are restored after each probe.
 */
export function measureCurves(
  model: tf.LayersModel,
  pipeline: WrittenSearchStage[],
  dims: readonly Dimension[],
  fixed: Assignment,
  validation: Split,
  /** The stages a trial of this assignment runs, as planning resolves them (`defaults:` merged). */
  stagesOf: (a: Assignment) => Stage[],
): { curves: LayerCurve[]; baselineAccuracy: number; probes: number } {
  const per = validation.x.length / validation.count;
  const n = Math.min(PROBE_SAMPLES, validation.count);
  const subset: Split = { x: validation.x.subarray(0, n * per), y: validation.y.subarray(0, n), count: n };
  const original = getWeights(model);
  const baselineAccuracy = evaluate(model, subset).accuracy;
  const huffmanStage = pipeline.find((s) => huffmanConfig.name in s)?.[huffmanConfig.name] as
    | { indexBits?: number }
    | undefined;
  const huffman = { on: !!huffmanStage, indexBits: (huffmanStage?.indexBits ?? 'auto') as number | 'auto' };
  const layers = [...new Set(dims.filter((d) => d.layer !== undefined).map((d) => d.layer!))];
  const curves: LayerCurve[] = [];
  let probes = 0;
  for (const layer of layers) {
    const dimIdx = dims.flatMap((d, i) => (d.layer === layer ? [i] : []));
    const kernels = original.filter((w) => isKernel(w) && layerOf(w.name) === layer);
    const grid = dimIdx.reduce<ParamValue[][]>(
      (acc, i) => acc.flatMap((prefix) => curveValues(dims[i]!.domain).map((v) => [...prefix, v])),
      [[]],
    );
    const options: LayerOption[] = [];
    for (const values of grid) {
      const assignment = fixed.slice();
      dimIdx.forEach((d, k) => (assignment[d] = values[k]!));
      const stages = stagesOf(assignment);
      let tensors = kernels;
      const masks = new Map<string, Uint8Array>();
      const quantized = new Map<string, QuantizedTensor>();
      for (const stage of stages) {
        const name = probeCompressorOf(stage.compressor);
        const params = name ? paramsForLayer(stage, layer) : undefined;
        if (!name || !params) continue;
        const c = compressorRegistry.get(name);
        if (c.kind !== 'weights') continue;
        const own = name === stage.compressor ? params : { retention: params.retention as number };
        const result = c.apply(tensors, withDefaults(c.params, own), { masks: tensors.map((t) => masks.get(t.name)) });
        tensors = result.tensors;
        result.tensors.forEach((t, i) => {
          const m = result.masks?.[i];
          if (m) masks.set(t.name, m);
          const q = result.quantized?.[i];
          if (q) quantized.set(t.name, q);
          else quantized.delete(t.name);
        });
      }
      setWeights(model, tensors);
      const accuracy = evaluate(model, subset).accuracy;
      setWeights(model, kernels);
      probes++;
      options.push({
        values,
        bytes: encodedBytes(tensors, masks, quantized, huffman),
        drop: baselineAccuracy - accuracy,
      });
    }
    curves.push({ layer, dims: dimIdx, options });
  }
  return { curves, baselineAccuracy, probes };
}
