import type { Addon, ConvDims, DepthwiseDims, MatMulDims } from '@squash/backend';
import { ACTIVATIONS } from './activations.js';
import type { Param, PlanContext, PlanNode } from './node.js';
import { emitGrad, gradOf, valuesOf, type Slot } from './slots.js';

const mm = (m: number, k: number, n: number, transposeA = false, transposeB = false): MatMulDims => ({
  batch: 1,
  m,
  k,
  n,
  transposeA,
  transposeB,
  aBatchStride: 0,
  bBatchStride: 0,
});

/**
 * The activation after a weighted layer: relu and linear go into the C++ kernel's epilogue (as
 * tf.layers fuses them), the others run after it over a pre-activation copy when their derivative
 * needs the input.
 */
class Epilogue {
  readonly code: 0 | 1;
  private readonly pre: Float32Array | null;
  constructor(
    readonly act: string,
    out: Slot,
  ) {
    this.code = act === 'relu' ? 1 : 0;
    const fn = ACTIVATIONS[act]!;
    this.pre = this.code === 1 || act === 'linear' || fn.fromOutput ? null : new Float32Array(out.y.length);
  }
  /** Where the kernel writes its (pre-activation) output. */
  target(out: Slot, n: number): Float32Array {
    return this.pre ? this.pre.subarray(0, n * out.size) : valuesOf(out, n);
  }
  apply(out: Slot, n: number): void {
    if (this.code === 1 || this.act === 'linear') return;
    const y = valuesOf(out, n);
    ACTIVATIONS[this.act]!.forward(this.pre ? this.pre.subarray(0, y.length) : y, y);
  }
  /** dz over out's gradient, in place. */
  backward(out: Slot, n: number, addon: Addon): Float32Array {
    const d = gradOf(out, n);
    if (this.act === 'linear') return d;
    const y = valuesOf(out, n);
    if (this.code === 1) {
      addon.reluGrad(y, d, d, 0);
      return d;
    }
    ACTIVATIONS[this.act]!.backward(this.pre ? this.pre.subarray(0, y.length) : y, y, d);
    return d;
  }
}

/** A Dense layer over the last axis: y = act(x·W + b) for every row of x. */
export function denseNode(name: string, x: Slot, out: Slot, kernel: Param, bias: Param | null, act: string): PlanNode {
  const [k, units] = kernel.shape as [number, number];
  const perRow = x.size / k;
  const epi = new Epilogue(act, out);
  return {
    name,
    out,
    forward(n, { addon }) {
      const rows = n * perRow;
      addon.matMul(valuesOf(x, n), kernel.value, epi.target(out, n), bias?.value ?? null, epi.code, mm(rows, k, units));
      epi.apply(out, n);
    },
    backward(n, { addon, scratch }) {
      const rows = n * perRow;
      const dz = epi.backward(out, n, addon);
      const xv = valuesOf(x, n);
      if (kernel.grad) addon.matMul(xv, dz, kernel.grad, null, 0, mm(k, rows, units, true, false));
      if (bias?.grad) addon.sumRows(dz, bias.grad, { rows, columns: units });
      emitGrad(x, n, scratch, (dst) => addon.matMul(dz, kernel.value, dst, null, 0, mm(rows, units, k, false, true)));
    },
  };
}

/** A 2-D convolution (NHWC), bias and activation; `dims` has batch 1 and is re-batched per call. */
export function conv2dNode(
  name: string,
  x: Slot,
  out: Slot,
  kernel: Param,
  bias: Param | null,
  act: string,
  dims: ConvDims,
): PlanNode {
  const epi = new Epilogue(act, out);
  const at = (n: number): ConvDims => ({ ...dims, batch: n });
  const positions = dims.outHeight * dims.outWidth;
  return {
    name,
    out,
    forward(n, { addon }) {
      addon.conv2d(valuesOf(x, n), kernel.value, epi.target(out, n), bias?.value ?? null, epi.code, at(n));
      epi.apply(out, n);
    },
    backward(n, { addon, scratch }) {
      const dz = epi.backward(out, n, addon);
      if (kernel.grad) addon.conv2dBackpropFilter(valuesOf(x, n), dz, kernel.grad, at(n));
      if (bias?.grad) addon.sumRows(dz, bias.grad, { rows: n * positions, columns: dims.outChannels });
      emitGrad(x, n, scratch, (dst) => addon.conv2dBackpropInput(dz, kernel.value, dst, at(n)));
    },
  };
}

/**
 * DepthwiseConv2D, or SeparableConv2D when a pointwise kernel is given (the depthwise result goes
 * through a 1×1 convolution, a matMul over positions), then bias and activation.
 */
export function depthwiseNode(
  name: string,
  x: Slot,
  out: Slot,
  depthwise: Param,
  pointwise: Param | null,
  bias: Param | null,
  act: string,
  dims: DepthwiseDims,
): PlanNode {
  const epi = new Epilogue(act, out);
  const at = (n: number): DepthwiseDims => ({ ...dims, batch: n });
  const mid = dims.outHeight * dims.outWidth * dims.channels * dims.multiplier;
  const maxBatch = out.y.length / out.size;
  const midY = pointwise ? new Float32Array(maxBatch * mid) : null;
  const midDy = pointwise ? new Float32Array(maxBatch * mid) : null;
  const positions = dims.outHeight * dims.outWidth;
  const units = out.shape[out.shape.length - 1]!;
  const k = dims.channels * dims.multiplier;
  const addBias = (y: Float32Array) => {
    if (!bias) return;
    const b = bias.value;
    for (let i = 0; i < y.length; i += units) for (let c = 0; c < units; c++) y[i + c]! += b[c]!;
  };
  return {
    name,
    out,
    forward(n, { addon }) {
      const z = epi.target(out, n);
      if (pointwise) {
        const m = midY!.subarray(0, n * mid);
        addon.depthwiseConv2d(valuesOf(x, n), depthwise.value, m, at(n));
        addon.matMul(m, pointwise.value, z, bias?.value ?? null, epi.code, mm(n * positions, k, units));
      } else {
        addon.depthwiseConv2d(valuesOf(x, n), depthwise.value, z, at(n));
        addBias(z);
        if (epi.code === 1) addon.relu(z, z, 0);
      }
      epi.apply(out, n);
    },
    backward(n, { addon, scratch }) {
      const dz = epi.backward(out, n, addon);
      if (bias?.grad) addon.sumRows(dz, bias.grad, { rows: n * positions, columns: units });
      let dMid = dz;
      if (pointwise) {
        const m = midY!.subarray(0, n * mid);
        if (pointwise.grad) addon.matMul(m, dz, pointwise.grad, null, 0, mm(k, n * positions, units, true, false));
        dMid = midDy!.subarray(0, n * mid);
        addon.matMul(dz, pointwise.value, dMid, null, 0, mm(n * positions, units, k, false, true));
      }
      if (depthwise.grad) addon.depthwiseConv2dBackpropFilter(valuesOf(x, n), dMid, depthwise.grad, at(n));
      emitGrad(x, n, scratch, (dst) => addon.depthwiseConv2dBackpropInput(dMid, depthwise.value, dst, at(n)));
    },
  };
}

export type { PlanContext };
