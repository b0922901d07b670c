import type { ManifestWeight } from './manifest.js';

/** An IEEE half-precision value (as tfjs' float16 decoder reads it, subnormals included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * One weight's values as float32, from its bytes at `offset` (little-endian, as tfjs writes them):
 * float32, int32 converted, or dequantized as tfjs' decodeWeights does (q·scale + min, rounded for int32).
 */
export function decodeWeight(bytes: Uint8Array, offset: number, w: ManifestWeight): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, w.bytes);
  const count = w.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const q = w.quantization;
  if (!q) {
    for (let i = 0; i < count; i++)
      out[i] = w.dtype === 'int32' ? view.getInt32(4 * i, true) : view.getFloat32(4 * i, true);
  } else if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  } else {
    for (let i = 0; i < count; i++) {
      const v = q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(2 * i, true);
      const x = v * q.scale + q.min;
      out[i] = w.dtype === 'int32' ? Math.round(x) : x;
    }
  }
  return out;
}
