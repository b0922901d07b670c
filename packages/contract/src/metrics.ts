/**
 * Every metric key a run records, declared once. Writers (the runner) and readers (reporter, CLI)
 * import these instead of spelling the strings; the query language reaches them as `metrics.<key>`.
 */
export const Metric = {
  // Final values (step 0) of every trial; the baseline records the subset that applies to it.
  accuracy: 'accuracy',
  loss: 'loss',
  accuracyDelta: 'accuracy_delta',
  /** Accuracy of the artifact reloaded from its bytes (must equal `accuracy`). */
  artifactAccuracy: 'artifact_accuracy',
  valAccuracy: 'val_accuracy',
  valLoss: 'val_loss',
  weightsKeptFraction: 'weights_kept_fraction',
  weightsChangedFraction: 'weights_changed_fraction',
  weightsTotal: 'weights_total',
  paramsKept: 'params_kept',
  paramsKeptFraction: 'params_kept_fraction',
  macs: 'macs',
  macsKeptFraction: 'macs_kept_fraction',
  sizeFloat32Bytes: 'size_float32_bytes',
  sizeSparseBytes: 'size_sparse_bytes',
  sizeQuantizedBytes: 'size_quantized_bytes',
  sizeHuffmanBytes: 'size_huffman_bytes',
  artifactBytes: 'artifact_bytes',
  // What a browser downloads for the trial's model in stock TensorFlow.js form (`squash export`):
  // bytes of model.json plus its weight shards; gzip: each file gzipped (level 9) and summed, as a
  // web server compressing them sends them. Beside `artifact_bytes` (the .sqz) they are the honest
  // download-size comparison.
  /** Stock tfjs Layers format, float32 weights (`squash export --format tfjs`). */
  tfjsBytes: 'tfjs_bytes',
  /** Stock tfjs with every weight as tfjs uint8 (`--format tfjs-uint8`, the converter's `--quantize_uint8`). */
  tfjsUint8Bytes: 'tfjs_uint8_bytes',
  /** `tfjs_bytes` gzipped, file by file. */
  tfjsGzipBytes: 'tfjs_gzip_bytes',
  /** `tfjs_uint8_bytes` gzipped, file by file. */
  tfjsUint8GzipBytes: 'tfjs_uint8_gzip_bytes',
  compressionRatio: 'compression_ratio',
  weightBits: 'weight_bits',
  activationBits: 'activation_bits',
  seconds: 'seconds',
  trainSeconds: 'train_seconds',
  finetuneSeconds: 'finetune_seconds',
  // Curves (step = epoch): the baseline's training and a trial's fine-tuning.
  trainLoss: 'train_loss',
  trainAccuracy: 'train_accuracy',
  finetuneLoss: 'finetune_loss',
  finetuneAccuracy: 'finetune_accuracy',
  finetuneValAccuracy: 'finetune_val_accuracy',
} as const;

export type MetricKey = (typeof Metric)[keyof typeof Metric];

/** The fields recorded per weight tensor as `layer.<tensor>.<field>` (sizes are bytes of real encodings). */
export const LayerField = {
  kept: 'kept',
  total: 'total',
  bits: 'bits',
  indexBits: 'index_bits',
  denseBytes: 'dense_bytes',
  sparseBytes: 'sparse_bytes',
  quantizedBytes: 'quantized_bytes',
  huffmanBytes: 'huffman_bytes',
  artifactBytes: 'artifact_bytes',
  /** The paper's per-layer columns: weights kept, and compressed size over float32 size. */
  keptFraction: 'kept_fraction',
  sizeFraction: 'size_fraction',
} as const;

export type LayerFieldKey = (typeof LayerField)[keyof typeof LayerField];

const LAYER_PREFIX = 'layer.';
const LAYER_FIELDS: ReadonlySet<string> = new Set(Object.values(LayerField));

/** `layer.dense_1/kernel.kept`: the key of one per-tensor metric. */
export function layerMetricKey(tensor: string, field: LayerFieldKey): string {
  return `${LAYER_PREFIX}${tensor}.${field}`;
}

/**
 * The tensor and field of a per-tensor metric key, or undefined for any other key. Tensor names
 * may contain dots; fields never do, so the field is what follows the last dot.
 */
export function parseLayerMetricKey(key: string): { tensor: string; field: LayerFieldKey } | undefined {
  if (!key.startsWith(LAYER_PREFIX)) return undefined;
  const dot = key.lastIndexOf('.');
  if (dot <= LAYER_PREFIX.length) return undefined;
  const field = key.slice(dot + 1);
  if (!LAYER_FIELDS.has(field)) return undefined;
  return { tensor: key.slice(LAYER_PREFIX.length, dot), field: field as LayerFieldKey };
}

/** A run's per-tensor metrics as one row per tensor (`{ tensor, kept, bits, … }`), in recorded order. */
export function layerMetricRows(metrics: Record<string, number>): Array<Record<string, string | number>> {
  const rows = new Map<string, Record<string, string | number>>();
  for (const [key, value] of Object.entries(metrics)) {
    const k = parseLayerMetricKey(key);
    if (!k) continue;
    const row = rows.get(k.tensor) ?? { tensor: k.tensor };
    row[k.field] = value;
    rows.set(k.tensor, row);
  }
  return [...rows.values()];
}

/** Whether a key is a per-tensor metric (hidden from run-level listings). */
export function isLayerMetricKey(key: string): boolean {
  return parseLayerMetricKey(key) !== undefined;
}

/** One scalar measurement of a run. `step` is 0 (or absent) for a final value, the epoch for curves. */
export interface MetricInput {
  key: string;
  value: number;
  step?: number;
}
