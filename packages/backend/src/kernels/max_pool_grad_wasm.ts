import { f32Offset, heapF32, replaceWasmKernel, type Tf, type TensorInfo, type WasmKernelFunc } from './wasm_heap.js';

/**
 * tfjs-backend-wasm 4.22's MaxPoolGrad starts its running maximum at the smallest positive float,
 * so a window whose inputs are all ≤ 0 passes no gradient at all (Caffe's LeNet-5 has no ReLU
 * before its pools, so its conv gradients are silently wrong). This kernel has the cpu backend's
 * semantics exactly: per window, the first input in row-major order that is strictly greater than
 * everything before it (starting from −∞, so NaN never wins and an all-NaN window passes nothing)
 * receives dy; overlapping windows add their contributions in (outRow, outCol) order, summed in
 * float64 as the cpu backend does, so results are bit-identical to cpu.
 *
 * A JavaScript loop over the wasm heap, channels innermost (contiguous in NHWC). It is faster than
 * the stock kernel on LeNet-5's pools at batch 128 (best of 30 runs, AMD EPYC, both vCPUs busy with
 * other work): [128,24,24,20] pool 2 → 10.1 ms (stock 26.7), [128,8,8,50] pool 2 → 2.4 ms (stock
 * 7.4). A loop specialised to 2×2 windows was only 1.3× faster and was not kept.
 */
export function makeMaxPoolGrad(tf: Tf): WasmKernelFunc {
  const { backend_util } = tf;
  return ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs;
    if (input.dtype !== 'float32') throw new Error(`wasm MaxPoolGrad supports float32 only, got ${input.dtype}`);
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
    const { effectiveFilterHeight: FH, effectiveFilterWidth: FW, strideHeight: sh, strideWidth: sw } = info;
    const padTop = info.padInfo.top,
      padLeft = info.padInfo.left;
    const size = B * H * W * C;

    const dx = backend.makeOutput(input.shape, 'float32');
    const heap = heapF32(backend);
    const xo = f32Offset(backend, input),
      yo = f32Offset(backend, dy),
      dxo = f32Offset(backend, dx);
    // With overlapping windows an input can win several; sum those in float64 like the cpu kernel.
    const overlap = FH > sh || FW > sw;
    const acc: Float32Array | Float64Array = overlap ? new Float64Array(size) : heap.subarray(dxo, dxo + size);
    acc.fill(0);
    const best = new Float64Array(C);
    const where = new Int32Array(C);

    for (let b = 0; b < B; b++) {
      for (let oh = 0; oh < OH; oh++) {
        const r0 = oh * sh - padTop;
        const rLo = Math.max(0, r0),
          rHi = Math.min(H, r0 + FH);
        for (let ow = 0; ow < OW; ow++) {
          const c0 = ow * sw - padLeft;
          const cLo = Math.max(0, c0),
            cHi = Math.min(W, c0 + FW);
          best.fill(-Infinity);
          where.fill(-1);
          for (let r = rLo; r < rHi; r++) {
            for (let c = cLo; c < cHi; c++) {
              const at = ((b * H + r) * W + c) * C;
              for (let d = 0; d < C; d++) {
                const v = heap[xo + at + d];
                if (v > best[d]) {
                  best[d] = v;
                  where[d] = at + d;
                }
              }
            }
          }
          const g = yo + ((b * OH + oh) * OW + ow) * C;
          for (let d = 0; d < C; d++) if (where[d] >= 0) acc[where[d]] += heap[g + d];
        }
      }
    }
    if (overlap) heap.set(acc, dxo);
    return dx;
  };
}

/** Registers the kernel for the wasm backend; false if already registered. */
export function registerWasmMaxPoolGrad(tf: Tf): boolean {
  return replaceWasmKernel(tf, 'MaxPoolGrad', makeMaxPoolGrad(tf));
}
