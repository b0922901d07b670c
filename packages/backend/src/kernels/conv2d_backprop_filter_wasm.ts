import {
  copyRows,
  f32Offset,
  heapF32,
  replaceWasmKernel,
  type Tf,
  type TensorInfo,
  type WasmBackend,
  type WasmKernelFunc,
} from './wasm_heap.js';

/** Batches are processed in chunks whose im2col matrix stays below this many floats (64 MB). */
export const DEFAULT_MAX_COLUMN_ELEMENTS = 1 << 24;

/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, so training any conv net on wasm throws
 * "Kernel not registered". This one computes
 *
 *   dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·sh+kh−padTop, ow·sw+kw−padLeft, ci] · dy[b,oh,ow,co]
 *
 * as one matrix product: an im2col matrix cols[K, N] (K = KH·KW·Ci rows, N = B·OH·OW columns,
 * zeros where the window hangs over the padding) is built in JavaScript straight into the wasm
 * heap, and the wasm BatchMatMul (XNNPACK) multiplies it by dy, whose NHWC layout already is the
 * [N, Co] matrix. The [K, Co] product is the filter gradient in [KH, KW, Ci, Co] order: no
 * transposes of dy or of the result. x is transposed once to [Ci, B, H, W] (Ci > 1) so that each
 * im2col row is a run of contiguous copies.
 *
 * Formulations measured on LeNet-5 shapes (valid, stride 1; best of 25 runs, ms, AMD EPYC, 1 thread):
 *
 *   x → filter                          im2col+BatchMatMul   Conv2D(xᵀ, dyᵀ)+Transpose
 *   [64,28,28,1]   → [5,5,1,20]               2.4                 7.1
 *   [128,28,28,1]  → [5,5,1,20]               4.8                14.3
 *   [64,12,12,20]  → [5,5,20,50]             10.2                 9.9
 *   [128,12,12,20] → [5,5,20,50]             20.5                20.6
 *
 * The Conv2D formulation (x transposed so batch becomes channels, dy as the filter, forward
 * strides as dilations) ties on the second layer and is 3× slower on the first, where XNNPACK
 * gets only 25 output pixels × 20 channels. Of the 20.5 ms, 12.9 ms is the matmul itself
 * (205 M multiply-adds at ~32 GFLOP/s) and ~7 ms the im2col loop. Building the im2col matrix as
 * [N, K] (contiguous reads) and transposing it with the wasm Transpose was slower: the transpose
 * alone took 18 ms on the first layer and 91 ms on the second.
 *
 * Supports what tf.conv2d's gradient passes: strides, pad ('same', 'valid', a number or explicit
 * pairs), dimRoundingMode, NHWC. Dilations are always 1 in this kernel's contract.
 */
export function makeConv2DBackpropFilter(
  tf: Tf,
  maxColumnElements = DEFAULT_MAX_COLUMN_ELEMENTS,
): WasmKernelFunc | undefined {
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!batchMatMul || !transpose) return undefined;
  const { backend_util } = tf;

  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    if (info.dataFormat !== 'channelsLast') {
      throw new Error(`wasm Conv2DBackpropFilter supports NHWC only, got dataFormat '${dataFormat}'`);
    }
    const {
      batchSize: B,
      inHeight: H,
      inWidth: W,
      inChannels: Ci,
      outHeight: OH,
      outWidth: OW,
      outChannels: Co,
    } = info;
    const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
    const padTop = info.padInfo.top,
      padLeft = info.padInfo.left;
    const K = KH * KW * Ci,
      P = OH * OW;
    const outShape = [KH, KW, Ci, Co];
    if (B * P === 0) {
      const zeros = backend.makeOutput(outShape, 'float32');
      heapF32(backend).fill(0, f32Offset(backend, zeros), f32Offset(backend, zeros) + K * Co);
      return zeros;
    }

    // [Ci, B, H, W]: each (kh, kw, ci) row of cols reads one plane per batch. With one channel x
    // already has that layout.
    const xt =
      Ci === 1
        ? x
        : (transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm: [3, 0, 1, 2] } } as never) as TensorInfo);
    const chunk = Math.max(1, Math.min(B, Math.floor(maxColumnElements / (K * P))));
    let out: TensorInfo | undefined;
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const nb = Math.min(chunk, B - b0),
        N = nb * P;
      const cols = backend.makeOutput([1, K, N], 'float32');
      im2colRows(backend, xt, cols, { B, H, W, Ci, OH, OW, KH, KW, sh, sw, padTop, padLeft }, b0, nb);
      const dyPart =
        nb === B
          ? { dataId: dy.dataId, shape: [1, N, Co], dtype: 'float32' as const }
          : copyRows(backend, dy, b0 * P, N, Co, [1, N, Co]);
      const part = batchMatMul.kernelFunc({
        inputs: { a: cols, b: dyPart },
        backend,
        attrs: { transposeA: false, transposeB: false },
      } as never) as TensorInfo;
      backend.disposeData(cols.dataId);
      if (dyPart.dataId !== dy.dataId) backend.disposeData(dyPart.dataId);
      if (!out) {
        out = part;
      } else {
        const heap = heapF32(backend),
          o = f32Offset(backend, out),
          p = f32Offset(backend, part);
        for (let i = 0; i < K * Co; i++) heap[o + i] += heap[p + i];
        backend.disposeData(part.dataId);
      }
    }
    if (xt !== x) backend.disposeData(xt.dataId);
    return { dataId: out!.dataId, shape: outShape, dtype: 'float32' };
  };
}

interface Geometry {
  B: number;
  H: number;
  W: number;
  Ci: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
}

/** Fills cols[K, nb·OH·OW] from xt [Ci, B, H, W] for batches b0 … b0+nb−1. */
function im2colRows(backend: WasmBackend, xt: TensorInfo, cols: TensorInfo, g: Geometry, b0: number, nb: number): void {
  const { B, H, W, Ci, OH, OW, KH, KW, sh, sw, padTop, padLeft } = g;
  const heap = heapF32(backend);
  const xo = f32Offset(backend, xt);
  let p = f32Offset(backend, cols);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      // Output columns whose input column ow·sw + kw − padLeft lies inside the image.
      const lo = Math.min(OW, Math.max(0, Math.ceil((padLeft - kw) / sw)));
      const hi = Math.max(lo, Math.min(OW, Math.floor((W - 1 + padLeft - kw) / sw) + 1));
      // Long unit-stride runs copy faster with copyWithin (memmove); short ones with a loop
      // (LeNet-5: 3.3 vs 8.2 ms for runs of 24, the loop wins for runs of 8).
      const copy = sw === 1 && hi - lo >= 16;
      for (let c = 0; c < Ci; c++) {
        for (let b = b0; b < b0 + nb; b++) {
          const plane = xo + (c * B + b) * H * W;
          for (let oh = 0; oh < OH; oh++, p += OW) {
            const r = oh * sh + kh - padTop;
            if (r < 0 || r >= H) {
              heap.fill(0, p, p + OW);
              continue;
            }
            const src = plane + r * W + kw - padLeft;
            for (let ow = 0; ow < lo; ow++) heap[p + ow] = 0;
            if (copy) heap.copyWithin(p + lo, src + lo, src + hi);
            else if (sw === 1) for (let ow = lo; ow < hi; ow++) heap[p + ow] = heap[src + ow];
            else for (let ow = lo; ow < hi; ow++) heap[p + ow] = heap[src + ow * sw];
            for (let ow = hi; ow < OW; ow++) heap[p + ow] = 0;
          }
        }
      }
    }
  }
}

/** Registers the kernel for the wasm backend; false if already registered or the backend lacks what it needs. */
export function registerWasmConv2DBackpropFilter(tf: Tf): boolean {
  const kernelFunc = makeConv2DBackpropFilter(tf);
  return kernelFunc !== undefined && replaceWasmKernel(tf, 'Conv2DBackpropFilter', kernelFunc);
}
