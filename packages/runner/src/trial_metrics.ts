import type { WeightTensor } from '@squash/core';
import { isKernel, layerCosts, type Evaluation, type ModelSpec } from '@squash/trainer';
import type { ArtifactResult } from './pipeline/artifact.js';
import type { PipelineState } from './pipeline/state.js';
import type { MetricInput } from '@squash/store';

export interface TrialOutcome {
  evaluation: Evaluation;
  validation?: Evaluation;
  baselineAccuracy: number;
  baselineWeights: WeightTensor[];
  /** The baseline's architecture and the data's input shape: MACs count kernel positions. */
  baselineSpec: ModelSpec;
  inputShape: number[];
  state: PipelineState;
  artifact: ArtifactResult;
  seconds: number;
}

function _nonzero(v: Float32Array): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) n++;
  return n;
}

/**
 * The numbers every trial records. Fractions are relative to the baseline, so a trial that
 * removed units or distilled into a smaller student reports what it kept of the original.
 * Sizes are bytes of real encodings; `compression_ratio` = baseline float32 bytes / artifact bytes.
 */
export function trialMetrics(o: TrialOutcome): MetricInput[] {
  const { evaluation: ev, state, artifact } = o;
  const baseKernels = o.baselineWeights.filter(isKernel);
  const baseKernelCount = baseKernels.reduce((n, k) => n + k.values.length, 0);
  const baseParams = o.baselineWeights.reduce((n, w) => n + w.values.length, 0);
  const kernels = artifact.layers.filter((l) => l.name.endsWith('/kernel'));
  const keptKernel = kernels.reduce((n, l) => n + l.kept, 0);
  const keptParams = artifact.layers.reduce((n, l) => n + l.kept, 0);

  // Changed only has a meaning weight-for-weight, i.e. when the shapes are the baseline's.
  const current = new Map(kernels.map((l) => [l.name, l]));
  // MACs per sample: each kept kernel weight once per position it is applied at (outH·outW for a
  // convolution, once for a dense layer); sparse kernels skip their zeros.
  const baseMacs = layerCosts(o.baselineSpec, o.inputShape).reduce((n, l) => n + l.macs, 0);
  const positions = new Map(layerCosts(state.spec, o.inputShape).map((l) => [`${l.name}/kernel`, l.positions]));
  const keptMacs = kernels.reduce((n, l) => n + l.kept * positions.get(l.name)!, 0);
  const sameShape =
    baseKernels.every((k) => current.get(k.name)?.total === k.values.length) && kernels.length === baseKernels.length;
  const metrics: MetricInput[] = [
    { key: 'accuracy', value: ev.accuracy },
    { key: 'loss', value: ev.loss },
    { key: 'accuracy_delta', value: ev.accuracy - o.baselineAccuracy },
    { key: 'artifact_accuracy', value: artifact.reloaded.accuracy },
    ...(o.validation
      ? [
          { key: 'val_accuracy', value: o.validation.accuracy },
          { key: 'val_loss', value: o.validation.loss },
        ]
      : []),
    { key: 'weights_kept_fraction', value: keptKernel / baseKernelCount },
    { key: 'weights_total', value: baseKernelCount },
    { key: 'params_kept', value: keptParams },
    { key: 'params_kept_fraction', value: keptParams / baseParams },
    { key: 'macs', value: keptMacs },
    { key: 'macs_kept_fraction', value: keptMacs / baseMacs },
    { key: 'size_float32_bytes', value: 4 * baseParams },
    { key: 'size_sparse_bytes', value: artifact.totals.sparse },
    { key: 'size_quantized_bytes', value: artifact.totals.quantized },
    { key: 'size_huffman_bytes', value: artifact.totals.huffman },
    { key: 'artifact_bytes', value: artifact.bytes },
    { key: 'compression_ratio', value: (4 * baseParams) / artifact.bytes },
    { key: 'seconds', value: o.seconds },
  ];
  if (sameShape) {
    let changed = 0;
    for (const k of baseKernels) {
      const now = o.state.model.getLayer(k.name.split('/')[0]!).getWeights()[0]!.dataSync();
      for (let i = 0; i < now.length; i++) if (now[i] !== k.values[i]) changed++;
    }
    metrics.push({ key: 'weights_changed_fraction', value: changed / baseKernelCount });
  }
  const bits = kernels.map((l) => l.bits).filter((b): b is number => b !== undefined);
  if (bits.length) metrics.push({ key: 'weight_bits', value: Math.max(...bits) });
  if (state.activations.size)
    metrics.push({ key: 'activation_bits', value: Math.max(...[...state.activations.values()].map((a) => a.bits)) });
  if (state.trainSeconds) metrics.push({ key: 'finetune_seconds', value: state.trainSeconds });
  for (const l of artifact.layers) {
    const p = `layer.${l.name}`;
    metrics.push(
      { key: `${p}.kept`, value: l.kept },
      { key: `${p}.total`, value: l.total },
      { key: `${p}.dense_bytes`, value: l.dense },
      { key: `${p}.sparse_bytes`, value: l.sparse },
      { key: `${p}.quantized_bytes`, value: l.quantized },
      { key: `${p}.huffman_bytes`, value: l.huffman },
      { key: `${p}.artifact_bytes`, value: l.artifact },
      // The paper's per-layer columns: weights kept, and compressed size over float32 size.
      { key: `${p}.kept_fraction`, value: l.total ? l.kept / l.total : 0 },
      { key: `${p}.size_fraction`, value: l.dense ? l.artifact / l.dense : 0 },
    );
    if (l.bits !== undefined) metrics.push({ key: `${p}.bits`, value: l.bits });
    if (l.indexBits !== undefined) metrics.push({ key: `${p}.index_bits`, value: l.indexBits });
  }
  for (const h of state.history.map((log, i) => ({ ...log, step: i + 1 }))) {
    metrics.push(
      { key: 'finetune_loss', value: h.loss, step: h.step },
      { key: 'finetune_accuracy', value: h.accuracy, step: h.step },
    );
    if (h.valAccuracy !== undefined) metrics.push({ key: 'finetune_val_accuracy', value: h.valAccuracy, step: h.step });
  }
  return metrics;
}
