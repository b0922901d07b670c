/**
 * How an artifact stores a quantized tensor's codebook: as the scheme's few parameters per channel
 * when the codebook is exactly derivable from them, else as the full codebook.
 *
 * The formulas are @squash/sqz's `deriveCodebook` — the decoder's, not quant/common.ts's
 * `codebookFromParams`, which we deliberately do not import, so the file format does not move when
 * a quantizer does.
 *
 * We never trust that a tensor was built exactly that way: the writer derives the codebook from
 * `params` and compares it bit for bit with `q.codebook`, and stores `params` only if every entry
 * matches; otherwise — and always for kmeans, whose params are the codebook — it stores the full
 * codebook (levels × float32 per channel). Decoding is thus bit-exact whatever a scheme did; the
 * price of a mismatch is a few bytes per channel.
 */
import { type CodebookStorage, deriveCodebook } from '@squash/sqz/format';
import type { QuantizedTensor } from '../quantized_tensor.js';

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** What to store for `q`'s codebook: its params if they reproduce it bit-exactly, else the codebook. */
export function codebookToStore(
  q: QuantizedTensor,
  channels: number,
): { storage: CodebookStorage; floats: Float32Array } {
  const derived = deriveCodebook(q.scheme, q.levels, q.params, channels);
  if (derived !== null && sameBits(derived, q.codebook)) return { storage: 'params', floats: q.params };
  return { storage: 'full', floats: q.codebook };
}
