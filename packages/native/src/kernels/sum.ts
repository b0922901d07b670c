import { f32, size, type NativeKernel } from './common.js';
import { allocate } from '../buffers.js';

/**
 * Sum over leading axes (every bias gradient: [batch, …, channels] → [channels]). cpu's kernel
 * transposes the whole tensor first with a generic index loop; other axis sets stay with it.
 */
export const sum: NativeKernel = (addon, { inputs, backend, attrs }) => {
  const { x } = inputs;
  const xv = f32(backend, x);
  if (!x || !xv || x.shape.length === 0 || xv.length === 0) return undefined;
  const rank = x.shape.length;
  const raw = attrs?.axis;
  const axes = (
    raw === null || raw === undefined
      ? [...Array(rank).keys()]
      : Array.isArray(raw)
        ? (raw as number[])
        : [raw as number]
  )
    .map((a) => (a < 0 ? a + rank : a))
    .sort((a, b) => a - b);
  if (axes.length === 0 || axes.some((a, i) => a !== i)) return undefined;
  const k = axes.length;
  const rows = size(x.shape.slice(0, k)),
    inner = size(x.shape.slice(k));
  const out = allocate(inner);
  addon.sumRows(xv, out, { rows, columns: inner });
  const shape = attrs?.keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
  return backend.makeTensorInfo(shape, 'float32', out);
};
