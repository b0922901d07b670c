import {
  bestIndexBits,
  measureEncodings,
  writeArtifact,
  type ArtifactLayer,
  type EncodingSizes,
} from '@squash/compressors';
import { countNonzero } from '@squash/contract';
import { sha256Hex, writeFileAtomic } from '@squash/core';
import {
  evaluate,
  getWeights,
  isKernel,
  modelFromArtifact,
  type ArtifactModelInfo,
  type Evaluation,
} from '@squash/trainer';
import { downloadSizes, type DownloadSizes } from './downloads.js';
import { activationRecord, DEFAULT_INDEX_BITS, type PipelineContext, type PipelineState } from './state.js';

export interface LayerSize extends EncodingSizes {
  name: string;
  /** Bytes of this tensor's section in the artifact file. */
  artifact: number;
  total: number;
  kept: number;
  bits?: number;
  /** Relative-index width, for tensors stored sparse. */
  indexBits?: number;
}

export interface ArtifactResult {
  path: string;
  bytes: number;
  /** sha256 (hex) of the file's bytes, recorded so a reader can tell it was altered since. */
  sha256: string;
  layers: LayerSize[];
  totals: EncodingSizes;
  /** Test metrics of the model rebuilt from the file: must equal the in-memory evaluation. */
  reloaded: Evaluation;
  /** The rebuilt model as stock tfjs files would download (what `squash export` writes). */
  downloads: DownloadSizes;
}

/** The artifact's per-tensor encodings: quantized, sparse, or plain float32 (biases stay float). */
function artifactLayers(state: PipelineState): ArtifactLayer[] {
  return getWeights(state.model).map((w): ArtifactLayer => {
    const q = state.quantized.get(w.name);
    const mask = state.masks.get(w.name);
    const base = { name: w.name, shape: w.shape };
    if (!mask)
      return q
        ? { ...base, encoding: { kind: 'quantized', q, huffman: state.huffman } }
        : { ...base, encoding: { kind: 'float32', values: w.values } };
    const encoding = q
      ? { kind: 'quantized' as const, q, mask, indexBits: 0, huffman: state.huffman }
      : { kind: 'sparse-float32' as const, values: w.values, mask, indexBits: 0, huffman: state.huffman };
    encoding.indexBits = state.indexBits === 'auto' ? bestIndexBits({ ...base, encoding }) : state.indexBits;
    return { ...base, encoding };
  });
}

/** The index width each sparse tensor was written with (measurements use the same). */
function indexBitsOf(layers: ArtifactLayer[]): Map<string, number> {
  return new Map(
    layers.flatMap((l) =>
      'indexBits' in l.encoding && l.encoding.indexBits ? [[l.name, l.encoding.indexBits] as [string, number]] : [],
    ),
  );
}

/**
 * Writes the trial's compressed model as one `.sqz` file (atomically), measures every tensor's
 * encodings for real (dense → sparse → quantized → Huffman), then loads the file back into a new
 * tfjs model and evaluates it, so the recorded size is of a file proven to work; that model, as
 * stock tfjs files in memory, gives the download sizes.
 */
export async function writeTrialArtifact(
  state: PipelineState,
  ctx: PipelineContext,
  path: string,
): Promise<ArtifactResult> {
  const info: ArtifactModelInfo = {
    format: 'squash-model',
    spec: state.spec,
    inputShape: ctx.data.inputShape,
    activations: activationRecord(state),
  };
  const weights = getWeights(state.model);
  const encoded = artifactLayers(state);
  const indexBits = indexBitsOf(encoded);
  const written = writeArtifact(info, encoded);
  writeFileAtomic(path, written.bytes, 'writing the compressed model');

  const sections = new Map(written.layers.map((l) => [l.name, l.section]));
  const layers: LayerSize[] = weights.map((w) => {
    const q = state.quantized.get(w.name);
    const mask = state.masks.get(w.name);
    const sizes: EncodingSizes = isKernel(w)
      ? measureEncodings({
          name: w.name,
          shape: w.shape,
          values: w.values,
          mask,
          q,
          indexBits: indexBits.get(w.name) ?? DEFAULT_INDEX_BITS,
        })
      : {
          dense: 4 * w.values.length,
          sparse: 4 * w.values.length,
          quantized: 4 * w.values.length,
          huffman: 4 * w.values.length,
        };
    return {
      name: w.name,
      ...sizes,
      artifact: sections.get(w.name) ?? 0,
      total: w.values.length,
      kept: countNonzero(w.values),
      bits: q?.bits,
      indexBits: indexBits.get(w.name),
    };
  });
  const totals = layers.reduce<EncodingSizes>(
    (t, l) => ({
      dense: t.dense + l.dense,
      sparse: t.sparse + l.sparse,
      quantized: t.quantized + l.quantized,
      huffman: t.huffman + l.huffman,
    }),
    { dense: 0, sparse: 0, quantized: 0, huffman: 0 },
  );
  const reloaded = modelFromArtifact(written.bytes);
  try {
    const ev = evaluate(reloaded.model, ctx.data.test, { activationHook: reloaded.activationHook });
    const downloads = await downloadSizes(reloaded.model);
    const sha256 = sha256Hex(written.bytes);
    return { path, bytes: written.bytes.length, sha256, layers, totals, reloaded: ev, downloads };
  } finally {
    reloaded.model.dispose();
  }
}
