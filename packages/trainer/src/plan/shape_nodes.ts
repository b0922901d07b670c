import type { PoolDims } from '@squash/backend';
import { dropoutMask } from '../training_ops.js';
import { ACTIVATIONS } from './activations.js';
import type { PlanNode } from './node.js';
import { emitGrad, gradOf, valuesOf, type Slot } from './slots.js';

/** MaxPooling2D through the C++ kernels; the gradient goes to each window's first maximum, as on cpu. */
export function maxPoolNode(name: string, x: Slot, out: Slot, dims: PoolDims): PlanNode {
  const at = (n: number): PoolDims => ({ ...dims, batch: n });
  return {
    name,
    out,
    forward: (n, { addon }) => addon.maxPool(valuesOf(x, n), valuesOf(out, n), at(n)),
    backward: (n, { addon, scratch }) =>
      emitGrad(x, n, scratch, (dst) => addon.maxPoolGrad(gradOf(out, n), valuesOf(x, n), dst, at(n))),
  };
}

/** AveragePooling2D with 'valid' padding (every window whole): the mean of each window. */
export function avgPoolNode(name: string, x: Slot, out: Slot, d: PoolDims): PlanNode {
  const { inHeight: H, inWidth: W, channels: C, outHeight: OH, outWidth: OW } = d;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = d;
  const count = KH * KW;
  return {
    name,
    out,
    forward(n) {
      const xs = valuesOf(x, n),
        ys = valuesOf(out, n);
      const acc = new Float64Array(C);
      for (let b = 0; b < n; b++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            acc.fill(0);
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const at = ((b * H + oh * sh + kh) * W + ow * sw + kw) * C;
                for (let c = 0; c < C; c++) acc[c]! += xs[at + c]!;
              }
            const o = ((b * OH + oh) * OW + ow) * C;
            for (let c = 0; c < C; c++) ys[o + c] = acc[c]! / count;
          }
    },
    backward(n, { scratch }) {
      const dy = gradOf(out, n);
      emitGrad(x, n, scratch, (dx) => {
        dx.fill(0);
        for (let b = 0; b < n; b++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              const o = ((b * OH + oh) * OW + ow) * C;
              for (let kh = 0; kh < KH; kh++)
                for (let kw = 0; kw < KW; kw++) {
                  const at = ((b * H + oh * sh + kh) * W + ow * sw + kw) * C;
                  for (let c = 0; c < C; c++) dx[at + c]! += dy[o + c]! / count;
                }
            }
      });
    },
  };
}

/** GlobalAveragePooling2D: float64 sums over each sample's positions, as the autograd path's op. */
export function globalAvgPoolNode(name: string, x: Slot, out: Slot): PlanNode {
  const C = out.size;
  const positions = x.size / C;
  return {
    name,
    out,
    forward(n) {
      const xs = valuesOf(x, n),
        ys = valuesOf(out, n);
      const sums = new Float64Array(C);
      for (let s = 0; s < n; s++) {
        sums.fill(0);
        const base = s * positions * C;
        for (let p = 0; p < positions; p++) for (let c = 0; c < C; c++) sums[c]! += xs[base + p * C + c]!;
        for (let c = 0; c < C; c++) ys[s * C + c] = sums[c]! / positions;
      }
    },
    backward(n, { scratch }) {
      const dy = gradOf(out, n);
      emitGrad(x, n, scratch, (dx) => {
        for (let s = 0; s < n; s++)
          for (let p = 0; p < positions; p++)
            for (let c = 0; c < C; c++) dx[(s * positions + p) * C + c] = dy[s * C + c]! / positions;
      });
    },
  };
}

/** Inverted dropout with the autograd path's seeded masks (the same per seed, step and layer); identity in inference. */
export function dropoutNode(name: string, x: Slot, out: Slot, rate: number): PlanNode {
  const mask = new Float32Array(out.y.length);
  const active = rate > 0 && rate < 1;
  let used = false;
  return {
    name,
    out,
    forward(n, ctx) {
      const xs = valuesOf(x, n),
        ys = valuesOf(out, n);
      used = active && ctx.training;
      if (!used) {
        ys.set(xs);
        return;
      }
      const m = dropoutMask(rate, ctx, name, xs.length, mask.subarray(0, xs.length));
      for (let i = 0; i < xs.length; i++) ys[i] = xs[i]! * m[i]!;
    },
    backward(n, { scratch }) {
      const dy = gradOf(out, n);
      emitGrad(x, n, scratch, (dx) => {
        if (!used) dx.set(dy);
        else for (let i = 0; i < dx.length; i++) dx[i] = dy[i]! * mask[i]!;
      });
    },
  };
}

/** An Activation layer; relu and relu6 through the C++ loops (a branch per element in JS). */
export function activationNode(name: string, x: Slot, out: Slot, act: string): PlanNode {
  const fn = ACTIVATIONS[act]!;
  const cap = act === 'relu' ? 0 : act === 'relu6' ? 6 : undefined;
  return {
    name,
    out,
    forward(n, { addon }) {
      if (cap !== undefined) addon.relu(valuesOf(x, n), valuesOf(out, n), cap);
      else fn.forward(valuesOf(x, n), valuesOf(out, n));
    },
    backward(n, { addon, scratch }) {
      const dy = gradOf(out, n);
      emitGrad(x, n, scratch, (dx) => {
        // relu's gradient from its output; relu6's from its input (0 < x ≤ 6, as tfjs).
        if (cap !== undefined) return addon.reluGrad(cap ? valuesOf(x, n) : valuesOf(out, n), dy, dx, cap);
        dx.set(dy);
        fn.backward(valuesOf(x, n), valuesOf(out, n), dx);
      });
    },
  };
}

/** Add: the sum of its inputs; each input gets the whole gradient. */
export function addNode(name: string, xs: Slot[], out: Slot): PlanNode {
  return {
    name,
    out,
    forward(n) {
      const y = valuesOf(out, n);
      y.set(valuesOf(xs[0]!, n));
      for (const x of xs.slice(1)) {
        const v = valuesOf(x, n);
        for (let i = 0; i < y.length; i++) y[i]! += v[i]!;
      }
    },
    backward(n, { scratch }) {
      const dy = gradOf(out, n);
      for (const x of xs) emitGrad(x, n, scratch, (dx) => dx.set(dy));
    },
  };
}

/** Concatenate along the last axis. */
export function concatNode(name: string, xs: Slot[], out: Slot): PlanNode {
  const widths = xs.map((x) => x.shape[x.shape.length - 1]!);
  const total = out.shape[out.shape.length - 1]!;
  const rowsPerSample = out.size / total;
  return {
    name,
    out,
    forward(n) {
      const y = valuesOf(out, n);
      let offset = 0;
      xs.forEach((x, j) => {
        const v = valuesOf(x, n),
          w = widths[j]!;
        for (let r = 0; r < n * rowsPerSample; r++) y.set(v.subarray(r * w, (r + 1) * w), r * total + offset);
        offset += w;
      });
    },
    backward(n, { scratch }) {
      const dy = gradOf(out, n);
      let offset = 0;
      xs.forEach((x, j) => {
        const w = widths[j]!;
        const o = offset;
        emitGrad(x, n, scratch, (dx) => {
          for (let r = 0; r < n * rowsPerSample; r++) dx.set(dy.subarray(r * total + o, r * total + o + w), r * w);
        });
        offset += w;
      });
    },
  };
}

/** ZeroPadding2D (NHWC): the input placed inside zeros; its gradient is the inner window. */
export function zeroPadNode(name: string, x: Slot, out: Slot, top: number, left: number): PlanNode {
  const [H, W, C] = x.shape as [number, number, number];
  const [OH, OW] = out.shape as [number, number, number];
  return {
    name,
    out,
    forward(n) {
      const xs = valuesOf(x, n),
        ys = valuesOf(out, n);
      ys.fill(0);
      for (let b = 0; b < n; b++)
        for (let h = 0; h < H; h++)
          ys.set(xs.subarray((b * H + h) * W * C, (b * H + h + 1) * W * C), ((b * OH + h + top) * OW + left) * C);
    },
    backward(n, { scratch }) {
      const dy = gradOf(out, n);
      emitGrad(x, n, scratch, (dx) => {
        for (let b = 0; b < n; b++)
          for (let h = 0; h < H; h++) {
            const from = ((b * OH + h + top) * OW + left) * C;
            dx.set(dy.subarray(from, from + W * C), (b * H + h) * W * C);
          }
      });
    },
  };
}

/**
 * Activation fake quantization with the clipped straight-through gradient (TF's FakeQuant): the
 * next layers see `quantize(a)`, the gradient passes where min ≤ a ≤ max.
 */
export function fakeQuantNode(
  name: string,
  x: Slot,
  out: Slot,
  range: { min: number; max: number },
  quantizeInPlace: (values: Float32Array, range: { min: number; max: number }, layer: string) => void,
): PlanNode {
  return {
    name,
    out,
    forward(n) {
      const y = valuesOf(out, n);
      y.set(valuesOf(x, n));
      quantizeInPlace(y, range, name);
    },
    backward(n, { scratch }) {
      const dy = gradOf(out, n),
        a = valuesOf(x, n);
      // The autograd path compares against float32 scalars.
      const lo = Math.fround(range.min),
        hi = Math.fround(range.max);
      emitGrad(x, n, scratch, (dx) => {
        for (let i = 0; i < dx.length; i++) dx[i] = a[i]! >= lo && a[i]! <= hi ? dy[i]! : 0;
      });
    },
  };
}
