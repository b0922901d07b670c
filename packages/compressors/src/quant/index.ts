import { QUANT_SCHEMES, type QuantizedTensor, type QuantScheme } from '../quantized_tensor.js';
import { quantizeAsymmetric } from './asymmetric.js';
import { quantizeBinary } from './binary.js';
import type { QuantizeOptions } from './driver.js';
import { quantizeKmeans } from './kmeans.js';
import { quantizePow2 } from './pow2.js';
import { quantizeSymmetric } from './symmetric.js';
import { quantizeTernary } from './ternary.js';

export { codebookFromParams, dequantize, bitsForLevels } from './common.js';
export type { QuantizeOptions } from './driver.js';
export { quantizeAsymmetric, quantizeBinary, quantizeKmeans, quantizePow2, quantizeSymmetric, quantizeTernary };
export { KMEANS_MAX_ITERATIONS } from './kmeans.js';

/** The `bits` each scheme accepts (inclusive); `quantize-weights` validates against this. */
export const SCHEME_BITS: Readonly<Record<QuantScheme, { min: number; max: number }>> = {
  symmetric: { min: 2, max: 16 },
  asymmetric: { min: 1, max: 16 },
  pow2: { min: 2, max: 16 },
  kmeans: { min: 1, max: 16 },
  binary: { min: 1, max: 1 },
  ternary: { min: 2, max: 2 },
};

const QUANTIZERS: Record<QuantScheme, (v: Float32Array, s: number[], o: QuantizeOptions) => QuantizedTensor> = {
  symmetric: quantizeSymmetric,
  asymmetric: quantizeAsymmetric,
  pow2: quantizePow2,
  kmeans: quantizeKmeans,
  binary: quantizeBinary,
  ternary: quantizeTernary,
};

/** Quantizes one tensor with the named scheme; see each scheme's doc comment. */
export function quantizeTensor(
  values: Float32Array,
  shape: number[],
  opts: QuantizeOptions & { scheme: QuantScheme },
): QuantizedTensor {
  const { scheme, ...rest } = opts;
  if (!Object.hasOwn(QUANTIZERS, scheme)) {
    throw new RangeError(`quantize: scheme must be one of: ${QUANT_SCHEMES.join(', ')}, got '${String(scheme)}'`);
  }
  return QUANTIZERS[scheme](values, shape, rest);
}
