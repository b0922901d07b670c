import { DEFAULT_MAX_COLUMN_ELEMENTS } from './conv2d_backprop_filter_wasm.js';
import {
  copyRows,
  f32Offset,
  heapF32,
  replaceWasmKernel,
  type Tf,
  type TensorInfo,
  type WasmKernelFunc,
} from './wasm_heap.js';

type Conv2DInfo = ReturnType<Tf['backend_util']['computeConv2DInfo']>;
type Formulation = (info: Conv2DInfo, args: Parameters<WasmKernelFunc>[0]) => TensorInfo | undefined;

/**
 * tfjs-backend-wasm 4.22's Conv2DBackpropInput is correct but a scalar C++ loop: 130–200 ms for
 * LeNet-5's second layer at batch 128, where the rewrites below take 20–35. Two rewrites on
 * the wasm backend's fast kernels (the same sums, rounded differently, as between any two
 * backends), chosen per call by a cost model:
 *
 * - **matmul + col2im**: cols[N, K] = dy[N, Co] · Wᵀ[Co, K] with the wasm BatchMatMul (N = B·OH·OW,
 *   K = KH·KW·Ci; Wᵀ is the filter transposed in JavaScript, it is small), then each column is
 *   scatter-added into dx in JavaScript. Handles any stride and padding.
 * - **conv**: dx = Conv2D(dy, W flipped 180° with in/out channels swapped), padded by
 *   KH−1−padTop etc., on dy with stride−1 zeros inserted between pixels when strides > 1.
 *   XNNPACK computes it over the whole input, but runs slowly with few output channels (Ci).
 *
 * Measured (best of 5 runs, ms, AMD EPYC, 1 thread, on a shared 2-vCPU machine: ±20 %; valid
 * 5×5 unless noted):
 *
 *   dx shape, filter                   stock   conv   matmul
 *   [128,12,12,20], 5×5×20→50 (LeNet)    131     31      23
 *   [64,12,12,20],  5×5×20→50             69     16      10
 *   [64,28,28,1],   5×5×1→20              14     12       5
 *   [64,28,28,3],   5×5×3→50              89     27      14
 *   [64,28,28,20],  5×5×20→8             161     15      48
 *   [64,28,28,32],  5×5×32→50           1214    128     168
 *   [32,28,28,16],  3×3×16→32 same        105      8      17
 *   [64,28,28,16],  3×3×16→32 same s2      40     23      12
 *
 * The cost model, fitted to those runs: the conv costs B·H·W·KH·KW·Ci·Co multiply-adds at a rate
 * proportional to min(1, Ci/8); matmul + col2im costs N·K·Co multiply-adds plus N·K scatter-adds
 * worth ~22 multiply-adds each. On a 64-shape grid (batch 64/128; 12², 14², 28² inputs; Ci 1–32;
 * Co 8–64; 3×3 and 5×5; strides 1, 2) its choice was within 20 % of the faster formulation on 63
 * shapes (34 % on the last), 1.01× the faster one on geometric mean. In a LeNet-5 training step
 * (batch 128, Adam) it takes the step from 245 to 115 ms (best of 8) against the stock kernel.
 */
export function makeConv2DBackpropInput(
  tf: Tf,
  options: { force?: 'conv' | 'matmul'; maxColumnElements?: number } = {},
): WasmKernelFunc | undefined {
  const byMatMul = makeByMatMul(tf, options.maxColumnElements ?? DEFAULT_MAX_COLUMN_ELEMENTS);
  const byConv = makeByConv(tf);
  if (!byMatMul || !byConv) return undefined;
  const { backend_util } = tf;

  return (args) => {
    const { inputs, attrs } = args;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    if (info.dataFormat !== 'channelsLast') {
      throw new Error(`wasm Conv2DBackpropInput supports NHWC only, got dataFormat '${dataFormat}'`);
    }
    if (dy.shape[1] !== info.outHeight || dy.shape[2] !== info.outWidth) {
      throw new Error(
        `wasm Conv2DBackpropInput: dy shape ${dy.shape} does not match the output ${info.outShape} of a conv on ${inputShape}`,
      );
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
    const taps = info.filterHeight * info.filterWidth * Ci;
    const convCost = (B * H * W * taps * Co) / Math.min(1, Ci / 8);
    const matMulCost = B * OH * OW * taps * (Co + 22.5);
    const choice = options.force ?? (matMulCost < convCost ? 'matmul' : 'conv');
    // The conv form cannot express padding larger than the filter; matmul + col2im handles anything.
    return (choice === 'conv' ? byConv(info, args) : undefined) ?? byMatMul(info, args)!;
  };
}

function makeByMatMul(tf: Tf, maxColumnElements: number): Formulation | undefined {
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
  if (!batchMatMul) return undefined;
  return (info, { inputs, backend }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
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

    const wt = backend.makeOutput([1, Co, K], 'float32');
    const dx = backend.makeOutput(info.inShape, 'float32');
    let heap = heapF32(backend);
    const f = f32Offset(backend, filter),
      w = f32Offset(backend, wt);
    for (let k = 0; k < K; k++) for (let o = 0; o < Co; o++) heap[w + o * K + k] = heap[f + k * Co + o];
    heap.fill(0, f32Offset(backend, dx), f32Offset(backend, dx) + B * H * W * Ci);

    const chunk = Math.max(1, Math.min(B, Math.floor(maxColumnElements / Math.max(1, K * P))));
    for (let b0 = 0; b0 < B && P > 0; b0 += chunk) {
      const nb = Math.min(chunk, B - b0),
        N = nb * P;
      const dyPart =
        nb === B
          ? { dataId: dy.dataId, shape: [1, N, Co], dtype: 'float32' as const }
          : copyRows(backend, dy, b0 * P, N, Co, [1, N, Co]);
      const cols = batchMatMul.kernelFunc({
        inputs: { a: dyPart, b: wt },
        backend,
        attrs: { transposeA: false, transposeB: false },
      } as never) as TensorInfo;
      if (dyPart.dataId !== dy.dataId) backend.disposeData(dyPart.dataId);
      heap = heapF32(backend);
      const xo = f32Offset(backend, dx);
      let p = f32Offset(backend, cols);
      // col2im: cols row (b, oh, ow) holds, for each (kh, kw), Ci contiguous values to add to dx.
      for (let b = b0; b < b0 + nb; b++) {
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            for (let kh = 0; kh < KH; kh++) {
              const r = oh * sh + kh - padTop;
              if (r < 0 || r >= H) {
                p += KW * Ci;
                continue;
              }
              const row = xo + (b * H + r) * W * Ci;
              for (let kw = 0; kw < KW; kw++, p += Ci) {
                const c = ow * sw + kw - padLeft;
                if (c < 0 || c >= W) continue;
                const d = row + c * Ci;
                for (let i = 0; i < Ci; i++) heap[d + i] += heap[p + i];
              }
            }
          }
        }
      }
      backend.disposeData(cols.dataId);
    }
    backend.disposeData(wt.dataId);
    return dx;
  };
}

function makeByConv(tf: Tf): Formulation | undefined {
  const conv2d = tf.getKernel('Conv2D', 'wasm');
  if (!conv2d) return undefined;
  return (info, { inputs, backend }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
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
    // dy dilated by the strides: Hd × Wd with dy[oh, ow] at (oh·sh, ow·sw).
    const Hd = (OH - 1) * sh + 1,
      Wd = (OW - 1) * sw + 1;
    const top = KH - 1 - info.padInfo.top,
      left = KW - 1 - info.padInfo.left;
    const bottom = H - Hd + info.padInfo.top,
      right = W - Wd + info.padInfo.left;
    if (top < 0 || left < 0 || bottom < 0 || right < 0 || OH * OW === 0) return undefined;

    // W'[kh, kw, co, ci] = W[KH−1−kh, KW−1−kw, ci, co]
    const flipped = backend.makeOutput([KH, KW, Co, Ci], 'float32');
    const dilated = sh > 1 || sw > 1 ? backend.makeOutput([B, Hd, Wd, Co], 'float32') : undefined;
    const heap = heapF32(backend);
    const f = f32Offset(backend, filter),
      w = f32Offset(backend, flipped);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const src = f + ((KH - 1 - kh) * KW + (KW - 1 - kw)) * Ci * Co,
          dst = w + (kh * KW + kw) * Co * Ci;
        for (let i = 0; i < Ci; i++) for (let o = 0; o < Co; o++) heap[dst + o * Ci + i] = heap[src + i * Co + o];
      }
    }
    if (dilated) {
      const d = f32Offset(backend, dilated),
        y = f32Offset(backend, dy);
      heap.fill(0, d, d + B * Hd * Wd * Co);
      for (let b = 0; b < B; b++) {
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const s = y + ((b * OH + oh) * OW + ow) * Co;
            heap.copyWithin(d + ((b * Hd + oh * sh) * Wd + ow * sw) * Co, s, s + Co);
          }
        }
      }
    }
    const dx = conv2d.kernelFunc({
      inputs: { x: dilated ?? dy, filter: flipped },
      backend,
      attrs: {
        strides: 1,
        dilations: 1,
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    } as never) as TensorInfo;
    backend.disposeData(flipped.dataId);
    if (dilated) backend.disposeData(dilated.dataId);
    return dx;
  };
}

/** Registers the kernel for the wasm backend; false if already registered or the backend lacks what it needs. */
export function registerWasmConv2DBackpropInput(tf: Tf): boolean {
  const kernelFunc = makeConv2DBackpropInput(tf);
  return kernelFunc !== undefined && replaceWasmKernel(tf, 'Conv2DBackpropInput', kernelFunc);
}
