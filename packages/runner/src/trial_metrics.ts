import { LayerField, type LayerFieldKey, layerMetricKey, Metric, type MetricInput } from '@squash/contract';
import type { WeightTensor } from '@squash/core';
import { foldBatchNorm, getWeights, isKernel, layerCosts, type Evaluation, type ModelSpec } from '@squash/trainer';
import type { ArtifactResult } from './pipeline/artifact.js';
import type { PipelineState } from './pipeline/state.js';

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

/**
 * The numbers every trial records. Fractions are relative to the baseline, so a trial that
 * removed units or distilled into a smaller student reports what it kept of the original.
 * Sizes are bytes of real encodings; `compression_ratio` = baseline float32 bytes / artifact bytes.
 */
export function trialMetrics(o: TrialOutcome): MetricInput[] {
  const { evaluation: ev, state, artifact } = o;
  // The pipeline starts from the baseline with its batch norms folded: kernels compare with those.
  // Sizes and parameter counts are of the baseline as trained, batch norms included.
  const baseKernels = foldBatchNorm(o.baselineSpec, o.baselineWeights, o.inputShape).weights.filter(isKernel);
  const baseKernelCount = baseKernels.reduce((n, k) => n + k.values.length, 0);
  const baseParams = o.baselineWeights.reduce((n, w) => n + w.values.length, 0);
  const kernels = artifact.layers.filter(isKernel);
  const keptKernel = kernels.reduce((n, l) => n + l.kept, 0);
  const keptParams = artifact.layers.reduce((n, l) => n + l.kept, 0);

  // Changed only has a meaning weight-for-weight, i.e. when the shapes are the baseline's.
  const current = new Map(kernels.map((l) => [l.name, l]));
  // MACs per sample: each kept kernel weight once per position it is applied at (outH·outW for a
  // convolution, once for a dense layer); sparse kernels skip their zeros.
  const baseMacs = layerCosts(o.baselineSpec, o.inputShape).reduce((n, l) => n + l.macs, 0);
  const positions = new Map(layerCosts(state.spec, o.inputShape).map((l) => [l.weight, l.positions]));
  const keptMacs = kernels.reduce((n, l) => n + l.kept * positions.get(l.name)!, 0);
  const sameShape =
    baseKernels.every((k) => current.get(k.name)?.total === k.values.length) && kernels.length === baseKernels.length;
  const metrics: MetricInput[] = [
    { key: Metric.accuracy, value: ev.accuracy },
    { key: Metric.loss, value: ev.loss },
    { key: Metric.accuracyDelta, value: ev.accuracy - o.baselineAccuracy },
    { key: Metric.artifactAccuracy, value: artifact.reloaded.accuracy },
    ...(o.validation
      ? [
          { key: Metric.valAccuracy, value: o.validation.accuracy },
          { key: Metric.valLoss, value: o.validation.loss },
        ]
      : []),
    { key: Metric.weightsKeptFraction, value: keptKernel / baseKernelCount },
    { key: Metric.weightsTotal, value: baseKernelCount },
    { key: Metric.paramsKept, value: keptParams },
    { key: Metric.paramsKeptFraction, value: keptParams / baseParams },
    { key: Metric.macs, value: keptMacs },
    { key: Metric.macsKeptFraction, value: keptMacs / baseMacs },
    { key: Metric.sizeFloat32Bytes, value: 4 * baseParams },
    { key: Metric.sizeSparseBytes, value: artifact.totals.sparse },
    { key: Metric.sizeQuantizedBytes, value: artifact.totals.quantized },
    { key: Metric.sizeHuffmanBytes, value: artifact.totals.huffman },
    { key: Metric.artifactBytes, value: artifact.bytes },
    { key: Metric.tfjsBytes, value: artifact.downloads.tfjs },
    { key: Metric.tfjsUint8Bytes, value: artifact.downloads.tfjsUint8 },
    { key: Metric.tfjsGzipBytes, value: artifact.downloads.tfjsGzip },
    { key: Metric.tfjsUint8GzipBytes, value: artifact.downloads.tfjsUint8Gzip },
    { key: Metric.compressionRatio, value: (4 * baseParams) / artifact.bytes },
    { key: Metric.seconds, value: o.seconds },
  ];
  if (sameShape) {
    let changed = 0;
    const weights = new Map(getWeights(state.model).map((w) => [w.name, w.values]));
    for (const k of baseKernels) {
      const now = weights.get(k.name)!;
      for (let i = 0; i < now.length; i++) if (now[i] !== k.values[i]) changed++;
    }
    metrics.push({ key: Metric.weightsChangedFraction, value: changed / baseKernelCount });
  }
  const bits = kernels.map((l) => l.bits).filter((b): b is number => b !== undefined);
  if (bits.length) metrics.push({ key: Metric.weightBits, value: Math.max(...bits) });
  if (state.activations.size)
    metrics.push({
      key: Metric.activationBits,
      value: Math.max(...[...state.activations.values()].map((a) => a.bits)),
    });
  if (state.trainSeconds) metrics.push({ key: Metric.finetuneSeconds, value: state.trainSeconds });
  for (const l of artifact.layers) {
    const key = (field: LayerFieldKey) => layerMetricKey(l.name, field);
    metrics.push(
      { key: key(LayerField.kept), value: l.kept },
      { key: key(LayerField.total), value: l.total },
      { key: key(LayerField.denseBytes), value: l.dense },
      { key: key(LayerField.sparseBytes), value: l.sparse },
      { key: key(LayerField.quantizedBytes), value: l.quantized },
      { key: key(LayerField.huffmanBytes), value: l.huffman },
      { key: key(LayerField.artifactBytes), value: l.artifact },
      // The paper's per-layer columns: weights kept, and compressed size over float32 size.
      { key: key(LayerField.keptFraction), value: l.total ? l.kept / l.total : 0 },
      { key: key(LayerField.sizeFraction), value: l.dense ? l.artifact / l.dense : 0 },
    );
    if (l.bits !== undefined) metrics.push({ key: key(LayerField.bits), value: l.bits });
    if (l.indexBits !== undefined) metrics.push({ key: key(LayerField.indexBits), value: l.indexBits });
  }
  for (const h of state.history.map((log, i) => ({ ...log, step: i + 1 }))) {
    metrics.push(
      { key: Metric.finetuneLoss, value: h.loss, step: h.step },
      { key: Metric.finetuneAccuracy, value: h.accuracy, step: h.step },
    );
    if (h.valAccuracy !== undefined)
      metrics.push({ key: Metric.finetuneValAccuracy, value: h.valAccuracy, step: h.step });
  }
  return metrics;
}
