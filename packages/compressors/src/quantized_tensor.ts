/**
 * The shared representation of a quantized tensor, produced by every quantization scheme and
 * consumed by Huffman coding, the artifact writer and the trainer's fine-tuning.
 *
 * Every scheme is expressed as codes into a per-channel codebook: element i of channel c decodes
 * to `codebook[c * levels + codes[i]]`. Symmetric, asymmetric and power-of-two codebooks are
 * derived from a few numbers per channel (`params`), which is what the artifact stores; k-means
 * codebooks are the centroids themselves.
 */
import type { QuantScheme } from '@squash/sqz/format';

// The scheme names are part of the file format, so the decoder (@squash/sqz) owns the list.
export { QUANT_SCHEMES, type QuantScheme } from '@squash/sqz/format';

export interface QuantizedTensor {
  scheme: QuantScheme;
  /** Bits per code before entropy coding: ceil(log2(levels)). */
  bits: number;
  shape: number[];
  /** null: one codebook for the tensor; else the axis whose index picks the channel's codebook. */
  channelAxis: number | null;
  /**
   * How many axes from `channelAxis` on pick the codebook, their indices flattened (absent: 1).
   * A depthwise kernel [kh, kw, C, M] has axis 2, span 2: one codebook per output channel c·M + m.
   */
  channelSpan?: number;
  /** Symbols per channel codebook. */
  levels: number;
  /** channels × levels values; channel c's symbol k decodes to codebook[c * levels + k]. */
  codebook: Float32Array;
  /** One symbol per element, row-major, each < levels. */
  codes: Uint16Array;
  /**
   * What the artifact stores per channel to rebuild the codebook: [scale] (symmetric, pow2: the
   * power-of-two step), [scale, zeroPoint] (asymmetric), [alpha] (binary, ternary), or the
   * `levels` centroids (kmeans). `codebookFromParams` inverts it exactly.
   */
  params: Float32Array;
  /** Per channel: the symbol that decodes to exactly 0, or −1 if that channel's codebook has none. */
  zeroCodes: Int32Array;
}

/**
 * Output channels of a weight tensor that does not say where its own lie (`WeightTensor.channelAxis`):
 * the last axis, as for dense [in, out] and conv [h, w, in, out].
 */
export const OUTPUT_AXIS = -1;
