/**
 * The TensorFlow.js Layers format as `tensorflowjs_converter` writes it — `model.json` (topology
 * and weights manifest) plus weight shards of at most 4 MB — with the weights as float32 or in
 * tfjs' own quantized dtypes (`--quantize_uint8 / _uint16 / _float16`), so that stock
 * `tf.loadLayersModel` loads it. The topology is what `model.save` writes for the model.
 */
import * as tf from '@tensorflow/tfjs';
import { quantizeForTfjs, type TfjsQuantDtype, type TfjsQuantization } from '@squash/compressors';
import { SQUASH_VERSION } from '@squash/core';
import type { Split } from '@squash/datasets';

export const TFJS_FORMATS = ['tfjs', 'tfjs-uint8', 'tfjs-uint16', 'tfjs-float16'] as const;
export type TfjsFormat = (typeof TFJS_FORMATS)[number];

/** The converter's default shard size: the largest file every major browser caches. */
export const SHARD_BYTES = 4 * 1024 * 1024;

export const MODEL_JSON = 'model.json';

export interface TfjsFile {
  name: string;
  bytes: Uint8Array;
}

/** How one weight was written: its dtype in the shard and whether tfjs decodes it to exactly its value. */
export interface TfjsTensor {
  name: string;
  shape: number[];
  dtype: 'float32' | TfjsQuantDtype;
  exact: boolean;
  /** Largest |decoded − value| (0 when exact). */
  maxAbsError: number;
}

export interface TfjsModelFiles {
  /** `model.json` first, then the shards in order. */
  files: TfjsFile[];
  tensors: TfjsTensor[];
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: TfjsQuantization;
}

const QUANT_DTYPE: Record<TfjsFormat, TfjsQuantDtype | undefined> = {
  tfjs: undefined,
  'tfjs-uint8': 'uint8',
  'tfjs-uint16': 'uint16',
  'tfjs-float16': 'float16',
};

/** What `model.save` hands its handler: the topology and every weight as float32 bytes. */
async function savedArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function joined(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return concat((Array.isArray(data) ? data : [data]).map((b) => new Uint8Array(b)));
}

/**
 * The files of `model` in `format`: every float32 weight (kernels, biases, anything else) in the
 * format's dtype, each tensor exact or not as `quantizeForTfjs` found; other dtypes as saved.
 */
export async function tfjsModelFiles(model: tf.LayersModel, format: TfjsFormat): Promise<TfjsModelFiles> {
  if (!Object.hasOwn(QUANT_DTYPE, format))
    throw new RangeError(`tfjsModelFiles: format must be one of ${TFJS_FORMATS.join(', ')}, got '${format}'`);
  const dtype = QUANT_DTYPE[format];
  const artifacts = await savedArtifacts(model);
  const data = joined(artifacts.weightData);
  const weights: WeightEntry[] = [];
  const tensors: TfjsTensor[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const spec of artifacts.weightSpecs ?? []) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const raw = data.slice(offset, offset + 4 * count);
    offset += 4 * count;
    const entry: WeightEntry = { name: spec.name, shape: spec.shape, dtype: spec.dtype };
    if (spec.dtype !== 'float32' || dtype === undefined) {
      chunks.push(raw);
      tensors.push({ name: spec.name, shape: spec.shape, dtype: 'float32', exact: true, maxAbsError: 0 });
    } else {
      const q = quantizeForTfjs(new Float32Array(raw.buffer, raw.byteOffset, count), dtype);
      entry.quantization = q.quantization;
      chunks.push(q.bytes);
      tensors.push({ name: spec.name, shape: spec.shape, dtype, exact: q.exact, maxAbsError: q.maxAbsError });
    }
    weights.push(entry);
  }
  const shards = shard(concat(chunks));
  const modelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: `squash ${SQUASH_VERSION}`,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: shards.map((s) => s.name), weights }],
  };
  return {
    files: [{ name: MODEL_JSON, bytes: new TextEncoder().encode(JSON.stringify(modelJson)) }, ...shards],
    tensors,
  };
}

/** `group1-shard1of2.bin`, …: the converter's split of one weight group into SHARD_BYTES pieces. */
function shard(bytes: Uint8Array): TfjsFile[] {
  const count = Math.ceil(bytes.length / SHARD_BYTES);
  return Array.from({ length: count }, (_, i) => ({
    name: `group1-shard${i + 1}of${count}.bin`,
    bytes: bytes.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES),
  }));
}

/**
 * Loads written files with stock TensorFlow.js, as a page would: `model.json` parsed, its shards
 * read by the manifest's paths and concatenated, then `tf.loadLayersModel(tf.io.fromMemory(…))`,
 * which decodes quantized weights with tfjs' own decoder.
 */
export async function loadTfjsFiles(files: readonly TfjsFile[]): Promise<tf.LayersModel> {
  const byName = new Map(files.map((f) => [f.name, f.bytes]));
  const json = byName.get(MODEL_JSON);
  if (!json) throw new Error(`loadTfjsFiles: no ${MODEL_JSON} among ${files.map((f) => f.name).join(', ')}`);
  const modelJson = JSON.parse(new TextDecoder().decode(json)) as tf.io.ModelJSON;
  const groups = modelJson.weightsManifest ?? [];
  const paths = groups.flatMap((g) => g.paths);
  const missing = paths.filter((p) => !byName.has(p));
  if (missing.length)
    throw new Error(`loadTfjsFiles: ${MODEL_JSON} names shards that are not there: ${missing.join(', ')}`);
  const weightData = concat(paths.map((p) => byName.get(p)!));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: groups.flatMap((g) => g.weights),
      weightData: weightData.buffer as ArrayBuffer,
    }),
  );
}

/** Accuracy of `model.predict` (argmax of the outputs) over a split, in batches. */
export function predictAccuracy(model: tf.LayersModel, data: Split, batchSize = 1000): number {
  const per = data.x.length / data.count;
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const predicted = tf.tidy(() => {
      const x = tf.tensor(data.x.subarray(start * per, (start + n) * per), [n, ...inputShape]);
      return tf.argMax(model.predict(x) as tf.Tensor, -1).dataSync();
    });
    for (let i = 0; i < n; i++) if (predicted[i] === data.y[start + i]) correct++;
  }
  return correct / data.count;
}
