import { f32, type NativeKernel, type Tf } from './common.js';

/** A depthwise convolution's geometry (NHWC, dilation 1): C input channels, M outputs per channel. */
export interface DepthwiseDims {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  multiplier: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * The geometry tfjs computes for a depthwise kernel's attributes, or undefined where these loops do
 * not apply (dilations > 1, which tf.depthwiseConv2d's gradient refuses anyway).
 */
export function depthwiseDims(
  tf: Pick<Tf, 'backend_util'>,
  xShape: number[],
  filterShape: number[],
  attrs: Record<string, unknown>,
): DepthwiseDims | undefined {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number,
    attrs.dilations as number,
    attrs.pad as 'valid',
    attrs.dimRoundingMode as 'floor',
    true,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    channels: info.inChannels,
    multiplier: info.outChannels / info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * y[b,oh,ow,c·M+m] = Σ_{kh,kw} x[b, oh·sh+kh−padTop, ow·sw+kw−padLeft, c] · W[kh,kw,c,m]: the
 * forward depthwise convolution over raw NHWC arrays, channels innermost, float64 sums per output
 * as tfjs-backend-cpu accumulates them (kh, kw in that order).
 */
export function depthwiseConv2dImpl(x: Float32Array, filter: Float32Array, y: Float32Array, d: DepthwiseDims): void {
  const { batch: B, inHeight: H, inWidth: W, channels: C, multiplier: M, outHeight: OH, outWidth: OW } = d;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padTop, padLeft } = d;
  const CO = C * M;
  const acc = new Float64Array(CO);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const r0 = oh * sh - padTop;
      for (let ow = 0; ow < OW; ow++) {
        const c0 = ow * sw - padLeft;
        acc.fill(0);
        for (let kh = 0; kh < KH; kh++) {
          const r = r0 + kh;
          if (r < 0 || r >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const col = c0 + kw;
            if (col < 0 || col >= W) continue;
            const xAt = ((b * H + r) * W + col) * C;
            const fAt = (kh * KW + kw) * CO;
            if (M === 1) for (let c = 0; c < C; c++) acc[c]! += x[xAt + c]! * filter[fAt + c]!;
            else for (let d2 = 0; d2 < CO; d2++) acc[d2]! += x[xAt + ((d2 / M) | 0)]! * filter[fAt + d2]!;
          }
        }
        y.set(acc, ((b * OH + oh) * OW + ow) * CO);
      }
    }
  }
}

/**
 * dW[kh,kw,c,m] = Σ_{b,oh,ow} x[b, oh·sh+kh−padTop, ow·sw+kw−padLeft, c] · dy[b,oh,ow,c·M+m], with
 * tfjs-backend-cpu's arithmetic: each element summed in float64 over (b, oh, ow) in that order, so
 * the result is bit-identical to cpu. cpu's own kernel reads both tensors through TensorBuffer.get
 * with the channel loop outermost (≈100 ms for a [32,14,14,8] input); here channels run innermost
 * over contiguous NHWC memory with one accumulator per output channel (≈1 ms). Shared by the
 * native backend and the wasm one (over views of the wasm heap).
 */
export function depthwiseConv2dBackpropFilterImpl(
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  d: DepthwiseDims,
): void {
  const { batch: B, inHeight: H, inWidth: W, channels: C, multiplier: M, outHeight: OH, outWidth: OW } = d;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padTop, padLeft } = d;
  const CO = C * M;
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
            const xAt = ((b * H + r) * W + kw + ow * sw - padLeft) * C;
            const yAt = ((b * OH + oh) * OW + ow) * CO;
            for (let d2 = 0; d2 < CO; d2++) acc[d2]! += x[xAt + ((d2 / M) | 0)]! * dy[yAt + d2]!;
          }
        }
      }
      // [KH, KW, C, M] with d2 = c·M + m: this (kh, kw)'s run of C·M elements.
      dw.set(acc, (kh * KW + kw) * CO);
    }
  }
}

/**
 * dx[b,h,w,c] = Σ_{oh,ow,m} dy[b,oh,ow,c·M+m] · W[kh,kw,c,m] over the windows covering (h, w), with
 * tfjs-backend-cpu's arithmetic (float64 sums over oh, ow, m in that order: bit-identical), channels
 * innermost.
 */
export function depthwiseConv2dBackpropInputImpl(
  dy: Float32Array,
  filter: Float32Array,
  dx: Float32Array,
  d: DepthwiseDims,
): void {
  const { batch: B, inHeight: H, inWidth: W, channels: C, multiplier: M, outHeight: OH, outWidth: OW } = d;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = d;
  const CO = C * M;
  // Offsets into the flipped filter, as cpu's kernel counts them.
  const topPad = KH - 1 - d.padTop,
    leftPad = KW - 1 - d.padLeft;
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
            const yAt = ((b * OH + oh) * OW + ow) * CO;
            const fAt = (kh * KW + kw) * CO;
            for (let c = 0; c < C; c++)
              for (let m = 0; m < M; m++) acc[c]! += dy[yAt + c * M + m]! * filter[fAt + c * M + m]!;
          }
        }
        dx.set(acc, ((b * H + h) * W + w) * C);
      }
    }
  }
}

/**
 * DepthwiseConv2dNativeBackpropFilter on the native backend: the loop above in JavaScript (a
 * depthwise filter is small; the loop, not the arithmetic, was cpu's cost). cpu's
 * DepthwiseConv2dNativeBackpropInput already reads raw arrays and stays.
 */
export const depthwiseConv2DBackpropFilter: NativeKernel = (_addon, { inputs, backend, attrs }, tf) => {
  const { x, dy } = inputs;
  const xv = f32(backend, x),
    dyv = f32(backend, dy);
  if (!x || !dy || !xv || !dyv) return undefined;
  const filterShape = attrs!.filterShape as number[];
  const dims = depthwiseDims(tf, x.shape, filterShape, attrs!);
  if (!dims) return undefined;
  const out = new Float32Array(filterShape.reduce((a, b) => a * b, 1));
  depthwiseConv2dBackpropFilterImpl(xv, dyv, out, dims);
  return backend.makeTensorInfo(filterShape, 'float32', out);
};
