import { f32Offset, heapF32, replaceWasmKernel, type Tf, type TensorInfo, type WasmKernelFunc } from './wasm_heap.js';

/** The geometry both gradients share (tfjs' computeConv2DInfo with depthwise = true). */
function depthwiseInfo(tf: Tf, xShape: number[], filterShape: number[], attrs: Record<string, any>, kernel: string) {
  const { strides, dilations, pad, dimRoundingMode } = attrs;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  // tf.depthwiseConv2d's gradient refuses dilations > 1 before it gets here; the loops assume 1.
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error(`wasm ${kernel} supports dilations of 1 only, got ${info.dilationHeight}×${info.dilationWidth}`);
  }
  return info;
}

/**
 * tfjs-backend-wasm 4.22 has no DepthwiseConv2dNativeBackpropFilter, so training a depthwise or
 * separable convolution on wasm throws "Kernel not registered". This one computes
 *
 *   dW[kh,kw,c,m] = Σ_{b,oh,ow} x[b, oh·sh+kh−padTop, ow·sw+kw−padLeft, c] · dy[b,oh,ow,c·M+m]
 *
 * with the cpu backend's arithmetic: each element is summed in float64 over (b, oh, ow) in that
 * order, so the result is bit-identical to cpu. The loops are reordered to run over channels
 * innermost (contiguous in NHWC), one float64 accumulator per output channel. A depthwise filter
 * has KH·KW·C·M elements, so a JavaScript loop over the wasm heap costs about as much as the
 * forward convolution's per-pixel work; no matrix product would make it cheaper.
 */
export function makeDepthwiseConv2dBackpropFilter(tf: Tf): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const info = depthwiseInfo(tf, x.shape, attrs.filterShape, attrs, 'DepthwiseConv2dNativeBackpropFilter');
    const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
    const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, outChannels: CO } = info;
    const M = CO / C;
    const padTop = info.padInfo.top,
      padLeft = info.padInfo.left;

    const dw = backend.makeOutput([KH, KW, C, M], 'float32');
    const heap = heapF32(backend);
    const xo = f32Offset(backend, x),
      yo = f32Offset(backend, dy),
      wo = f32Offset(backend, dw);
    const acc = new Float64Array(CO);
    for (let kh = 0; kh < KH; kh++) {
      const ohLo = Math.max(0, Math.ceil((padTop - kh) / sh));
      const ohHi = Math.min(OH, (H + padTop - kh) / sh);
      for (let kw = 0; kw < KW; kw++) {
        const owLo = Math.max(0, Math.ceil((padLeft - kw) / sw));
        const owHi = Math.min(OW, (W + padLeft - kw) / sw);
        acc.fill(0);
        for (let b = 0; b < B; b++) {
          for (let oh = ohLo; oh < ohHi; oh++) {
            const r = kh + oh * sh - padTop;
            for (let ow = owLo; ow < owHi; ow++) {
              const xAt = xo + ((b * H + r) * W + kw + ow * sw - padLeft) * C;
              const yAt = yo + ((b * OH + oh) * OW + ow) * CO;
              for (let d2 = 0; d2 < CO; d2++) acc[d2] += heap[xAt + ((d2 / M) | 0)]! * heap[yAt + d2]!;
            }
          }
        }
        // [KH, KW, C, M] with d2 = c·M + m is exactly the [KH, KW, C·M] run of this (kh, kw).
        heap.set(acc, wo + (kh * KW + kw) * CO);
      }
    }
    return dw;
  };
}

/**
 * tfjs-backend-wasm 4.22 has no DepthwiseConv2dNativeBackpropInput either (every depthwise or
 * separable layer needs it unless it reads the model input). This one computes
 *
 *   dx[b,h,w,c] = Σ_{oh,ow,m} dy[b,oh,ow,c·M+m] · W[kh,kw,c,m]   (h = oh·sh+kh−padTop, w likewise)
 *
 * with the cpu backend's arithmetic (float64 sums over oh, ow, m in that order: bit-identical),
 * channels innermost.
 */
export function makeDepthwiseConv2dBackpropInput(tf: Tf): WasmKernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const info = depthwiseInfo(tf, attrs.inputShape, filter.shape, attrs, 'DepthwiseConv2dNativeBackpropInput');
    const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
    const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, outChannels: CO } = info;
    const M = CO / C;
    // Offsets into the flipped filter, as the cpu kernel counts them.
    const topPad = KH - 1 - info.padInfo.top,
      leftPad = KW - 1 - info.padInfo.left;

    const dx = backend.makeOutput([B, H, W, C], 'float32');
    const heap = heapF32(backend);
    const yo = f32Offset(backend, dy),
      fo = f32Offset(backend, filter),
      xo = f32Offset(backend, dx);
    const acc = new Float64Array(C);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const rCorner = h - topPad;
        const ohLo = Math.max(0, Math.ceil(rCorner / sh));
        const ohHi = Math.min(OH, (KH + rCorner) / sh);
        for (let w = 0; w < W; w++) {
          const cCorner = w - leftPad;
          const owLo = Math.max(0, Math.ceil(cCorner / sw));
          const owHi = Math.min(OW, (KW + cCorner) / sw);
          acc.fill(0);
          for (let oh = ohLo; oh < ohHi; oh++) {
            const kh = KH - 1 - (oh * sh - rCorner);
            for (let ow = owLo; ow < owHi; ow++) {
              const kw = KW - 1 - (ow * sw - cCorner);
              const yAt = yo + ((b * OH + oh) * OW + ow) * CO;
              const fAt = fo + (kh * KW + kw) * CO;
              for (let c = 0; c < C; c++)
                for (let m = 0; m < M; m++) acc[c] += heap[yAt + c * M + m]! * heap[fAt + c * M + m]!;
            }
          }
          heap.set(acc, xo + ((b * H + h) * W + w) * C);
        }
      }
    }
    return dx;
  };
}

/** Registers both kernels for the wasm backend; false if already registered. */
export function registerWasmDepthwiseConv2dBackprop(tf: Tf): { filter: boolean; input: boolean } {
  return {
    filter: replaceWasmKernel(tf, 'DepthwiseConv2dNativeBackpropFilter', makeDepthwiseConv2dBackpropFilter(tf)),
    input: replaceWasmKernel(tf, 'DepthwiseConv2dNativeBackpropInput', makeDepthwiseConv2dBackpropInput(tf)),
  };
}
