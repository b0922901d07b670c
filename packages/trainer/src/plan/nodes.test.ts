import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { nativeAddon, selectBackend, type Addon } from '@squash/backend';
import { ACTIVATIONS as SPEC_ACTIVATIONS } from '../layer_spec.js';
import { steActivation } from '../ste.js';
import { distillationLoss } from '../train.js';
import { dropout } from '../training_ops.js';
import {
  checkNode,
  contextOf,
  convDims,
  depthwiseDimsOf,
  expectClose,
  onCpu,
  outSlot,
  paramOf,
  poolDims,
  runNodes,
  sizeOf,
  slotOf,
  tfActivation,
  valueAndGrads,
  Values,
} from './__tests__/node_harness.js';
import { batchNormNode } from './batch_norm.js';
import { softmaxCrossEntropy } from './loss.js';
import type { Param } from './node.js';
import {
  activationNode,
  addNode,
  avgPoolNode,
  concatNode,
  dropoutNode,
  fakeQuantNode,
  globalAvgPoolNode,
  maxPoolNode,
  zeroPadNode,
} from './shape_nodes.js';
import { gradOf, reshapeSlot, valuesOf } from './slots.js';
import { conv2dNode, denseNode, depthwiseNode } from './weighted.js';

// Every node of the compiled plan, run alone on hand-made slots over random shapes, against the
// same op in tfjs on the reference cpu backend: the output, and through tf.grads the gradients of
// sum(op(x)·dy) with respect to the input and every weight.
const nativeAvailable = await selectBackend({ prefer: 'native' }).then(
  () => nativeAddon(tf) !== undefined,
  () => false,
);
if (!nativeAvailable) console.warn('native backend unavailable: plan node tests skipped');

/** Every activation a layer spec can name; softmax is only ever the loss's. */
const ACTS = SPEC_ACTIVATIONS.filter((a) => a !== 'softmax');
const PADDINGS = ['same', 'valid'] as const;
// Odd counts on both sides of 8- and 16-float vector widths, so kernels' remainder loops run.
const ODD_CHANNELS = [1, 3, 5, 7, 13, 17, 33];

describe.skipIf(!nativeAvailable)('plan nodes against tfjs on the cpu backend', () => {
  const addon = (): Addon => nativeAddon(tf)!;

  describe('dense', () => {
    it.each(ACTS)('%s: over vectors and over the last axis of a [rows, k] sample', async (act) => {
      const v = new Values(100 + ACTS.indexOf(act));
      for (let i = 0; i < 3; i++) {
        const n = [1, 9, 3][i]!;
        const rows = i === 2 ? v.int(2, 4) : 1;
        const k = v.int(1, 70);
        const units = v.int(1, 40);
        const xShape = rows === 1 ? [k] : [rows, k];
        const x = slotOf('x', xShape, n, v.normal(n * rows * k, 2));
        const kernel = paramOf('d/kernel', [k, units], v.normal(k * units, 2 / Math.sqrt(k)), i !== 1);
        const bias = i === 2 ? null : paramOf('d/bias', [units], v.normal(units, 0.5));
        const out = outSlot('d', rows === 1 ? [units] : [rows, units], n);
        await checkNode(
          {
            label: `dense ${act} n=${n} x=${xShape} units=${units}${bias ? '' : ' no bias'}`,
            node: denseNode('d', x, out, kernel, bias, act),
            inputs: [x],
            params: bias ? [kernel, bias] : [kernel],
            n,
            ctx: contextOf(addon()),
            reference: (xt, w, b) => {
              let z = tf.matMul(tf.reshape(xt!, [-1, k]), w!);
              if (b) z = tf.add(z, b);
              return tfActivation(act, z);
            },
          },
          v,
        );
      }
    });
  });

  describe('conv2d', () => {
    it.each(ACTS)('%s: strides 1 and 2, same and valid padding, odd sizes', async (act) => {
      const v = new Values(200 + ACTS.indexOf(act));
      for (let i = 0; i < 4; i++) {
        const n = i % 2 ? 3 : 1;
        const strides = 1 + (i % 2);
        const padding = PADDINGS[i >> 1]!;
        const [H, W] = [v.int(3, 9), v.int(3, 9)];
        const C = v.pick(ODD_CHANNELS);
        const F = v.pick([1, 2, 5, 9, 17, 31]);
        const filter: [number, number, number, number] = [v.int(1, Math.min(5, H)), v.int(1, Math.min(5, W)), C, F];
        const dims = convDims([H, W, C], filter, strides, padding);
        const x = slotOf('x', [H, W, C], n, v.normal(n * H * W * C, 2));
        const fanIn = filter[0] * filter[1] * C;
        const kernel = paramOf('c/kernel', filter, v.normal(sizeOf(filter), 2 / Math.sqrt(fanIn)), i !== 3);
        const bias = i === 2 ? null : paramOf('c/bias', [F], v.normal(F, 0.5));
        const out = outSlot('c', [dims.outHeight, dims.outWidth, F], n);
        await checkNode(
          {
            label: `conv2d ${act} n=${n} x=${[H, W, C]} filter=${filter} strides=${strides} ${padding}`,
            node: conv2dNode('c', x, out, kernel, bias, act, dims),
            inputs: [x],
            params: bias ? [kernel, bias] : [kernel],
            n,
            ctx: contextOf(addon()),
            reference: (xt, w, b) => {
              let z: tf.Tensor = tf.conv2d(xt as tf.Tensor4D, w as tf.Tensor4D, strides, padding);
              if (b) z = tf.add(z, b);
              return tfActivation(act, z);
            },
          },
          v,
        );
      }
    });

    // tfjs has no gradient for dilated conv2d: the reference convolves with the kernel spread out
    // over zeros (the same convolution), built by a gather so the kernel's gradient flows back.
    it.each([1, 2, 3])('dilation %i (a model file may set it)', async (dilation) => {
      const v = new Values(250 + dilation);
      for (const padding of PADDINGS) {
        const n = 2;
        const [H, W, C, F] = [v.int(7, 11), v.int(7, 11), v.pick(ODD_CHANNELS), v.int(1, 6)];
        const filter: [number, number, number, number] = [3, 2, C, F];
        const dims = convDims([H, W, C], filter, 1, padding, dilation);
        const x = slotOf('x', [H, W, C], n, v.normal(n * H * W * C));
        const kernel = paramOf('c/kernel', filter, v.normal(sizeOf(filter)));
        const bias = paramOf('c/bias', [F], v.normal(F));
        const out = outSlot('c', [dims.outHeight, dims.outWidth, F], n);
        const [KH, KW] = [(filter[0] - 1) * dilation + 1, (filter[1] - 1) * dilation + 1];
        const taps = filter[0] * filter[1];
        const at = Int32Array.from({ length: KH * KW }, (_, p) => {
          const [r, c] = [Math.floor(p / KW), p % KW];
          return r % dilation || c % dilation ? taps : (r / dilation) * filter[1] + c / dilation;
        });
        await checkNode(
          {
            label: `conv2d dilation ${dilation} x=${[H, W, C]} ${padding}`,
            node: conv2dNode('c', x, out, kernel, bias, 'linear', dims),
            inputs: [x],
            params: [kernel, bias],
            n,
            ctx: contextOf(addon()),
            reference: (xt, w, b) => {
              const rows = tf.concat([tf.reshape(w!, [taps, C * F]), tf.zeros([1, C * F])]);
              const spread = tf.reshape(tf.gather(rows, tf.tensor1d(at, 'int32')), [KH, KW, C, F]) as tf.Tensor4D;
              return tf.add(tf.conv2d(xt as tf.Tensor4D, spread, 1, padding), b!);
            },
          },
          v,
        );
      }
    });
  });

  describe('depthwise and separable', () => {
    for (const separable of [false, true])
      it.each(ACTS)(
        `${separable ? 'separable' : 'depthwise'} %s: multipliers 1 and 2, strides, paddings`,
        async (act) => {
          const v = new Values(300 + ACTS.indexOf(act) + (separable ? 50 : 0));
          for (let i = 0; i < 4; i++) {
            const n = i % 2 ? 2 : 1;
            const strides = 1 + (i % 2);
            const padding = PADDINGS[i >> 1]!;
            const M = 1 + ((i ^ (i >> 1)) & 1);
            const [H, W, C] = [v.int(3, 9), v.int(3, 9), v.pick(ODD_CHANNELS)];
            const filter: [number, number, number, number] = [v.int(1, Math.min(4, H)), v.int(1, Math.min(4, W)), C, M];
            const dims = depthwiseDimsOf([H, W, C], filter, strides, padding);
            const F = separable ? v.int(1, 11) : C * M;
            const x = slotOf('x', [H, W, C], n, v.normal(n * H * W * C, 2));
            const dw = paramOf('s/depthwise_kernel', filter, v.normal(sizeOf(filter), 2 / filter[0]), i !== 3);
            const pw = separable ? paramOf('s/pointwise_kernel', [1, 1, C * M, F], v.normal(C * M * F), i !== 1) : null;
            const bias = i === 2 ? null : paramOf('s/bias', [F], v.normal(F, 0.5));
            const out = outSlot('s', [dims.outHeight, dims.outWidth, F], n);
            const params = [dw, pw, bias].filter((p): p is Param => p !== null);
            await checkNode(
              {
                label: `${separable ? 'separable' : 'depthwise'} ${act} n=${n} x=${[H, W, C]} filter=${filter} F=${F} strides=${strides} ${padding}`,
                node: depthwiseNode('s', x, out, dw, pw, bias, act, dims),
                inputs: [x],
                params,
                n,
                ctx: contextOf(addon()),
                reference: (xt, ...ws) => {
                  const [d, p] = [ws[0] as tf.Tensor4D, separable ? (ws[1] as tf.Tensor4D) : null];
                  const b = bias ? ws[ws.length - 1] : null;
                  let z: tf.Tensor = p
                    ? tf.separableConv2d(xt as tf.Tensor4D, d, p, strides, padding)
                    : tf.depthwiseConv2d(xt as tf.Tensor4D, d, strides, padding);
                  if (b) z = tf.add(z, b);
                  return tfActivation(act, z);
                },
              },
              v,
            );
          }
        },
      );
  });

  describe('pooling', () => {
    it.each([2, 3])('max pool %i×%i: strides 1 and 2, same and valid padding', async (size) => {
      const v = new Values(400 + size);
      for (let i = 0; i < 4; i++) {
        const n = i % 2 ? 3 : 1;
        const strides = 1 + (i % 2);
        const padding = PADDINGS[i >> 1]!;
        const [H, W, C] = [v.int(size, 9), v.int(size, 9), v.pick(ODD_CHANNELS)];
        const dims = poolDims([H, W, C], size, strides, padding);
        const x = slotOf('x', [H, W, C], n, v.normal(n * H * W * C));
        const out = outSlot('p', [dims.outHeight, dims.outWidth, C], n);
        await checkNode(
          {
            label: `maxPool ${size} n=${n} x=${[H, W, C]} strides=${strides} ${padding}`,
            node: maxPoolNode('p', x, out, dims),
            inputs: [x],
            params: [],
            n,
            ctx: contextOf(addon()),
            reference: (xt) => tf.maxPool(xt as tf.Tensor4D, size, strides, padding),
          },
          v,
        );
      }
    });

    it('max pool with ties in every window: the gradient goes where cpu sends it', async () => {
      const v = new Values(410);
      const [n, H, W, C] = [2, 7, 6, 3];
      for (const padding of PADDINGS) {
        const dims = poolDims([H, W, C], 3, 2, padding);
        const x = slotOf(
          'x',
          [H, W, C],
          n,
          Float32Array.from({ length: n * H * W * C }, () => v.int(0, 2)),
        );
        const out = outSlot('p', [dims.outHeight, dims.outWidth, C], n);
        await checkNode(
          {
            label: `maxPool ties ${padding}`,
            node: maxPoolNode('p', x, out, dims),
            inputs: [x],
            params: [],
            n,
            ctx: contextOf(addon()),
            reference: (xt) => tf.maxPool(xt as tf.Tensor4D, 3, 2, padding),
          },
          v,
        );
      }
    });

    it.each([
      [2, 2],
      [2, 1],
      [3, 2],
      [3, 3],
    ])('average pool %i with strides %i (valid padding)', async (size, strides) => {
      const v = new Values(420 + size * 10 + strides);
      for (const n of [1, 3]) {
        const [H, W, C] = [v.int(size, 9), v.int(size, 9), v.pick(ODD_CHANNELS)];
        const dims = poolDims([H, W, C], size, strides, 'valid');
        const x = slotOf('x', [H, W, C], n, v.normal(n * H * W * C));
        const out = outSlot('p', [dims.outHeight, dims.outWidth, C], n);
        await checkNode(
          {
            label: `avgPool ${size} n=${n} x=${[H, W, C]} strides=${strides}`,
            node: avgPoolNode('p', x, out, dims),
            inputs: [x],
            params: [],
            n,
            ctx: contextOf(addon()),
            reference: (xt) => tf.avgPool(xt as tf.Tensor4D, size, strides, 'valid'),
          },
          v,
        );
      }
    });

    it('global average pool', async () => {
      const v = new Values(430);
      for (const n of [1, 2, 5]) {
        const [H, W, C] = [v.int(1, 8), v.int(1, 8), v.pick(ODD_CHANNELS)];
        const x = slotOf('x', [H, W, C], n, v.normal(n * H * W * C));
        const out = outSlot('g', [C], n);
        await checkNode(
          {
            label: `globalAvgPool n=${n} x=${[H, W, C]}`,
            node: globalAvgPoolNode('g', x, out),
            inputs: [x],
            params: [],
            n,
            ctx: contextOf(addon()),
            reference: (xt) => tf.mean(xt, [1, 2]),
          },
          v,
        );
      }
    });
  });

  describe('activation layers', () => {
    // Values at each activation's kinks (0, relu6's 6, hardSigmoid's ±2.5) besides random ones.
    const KINKS = [0, 6, -2.5, 2.5, -6, 1e-3, -1e-3];
    it.each(ACTS)('%s', async (act) => {
      const v = new Values(500 + ACTS.indexOf(act));
      for (const shape of [[v.int(1, 30)], [v.int(1, 5), v.int(1, 5), v.pick(ODD_CHANNELS)]]) {
        const n = v.pick([1, 3]);
        const values = v.normal(n * sizeOf(shape), 4);
        values.set(KINKS.slice(0, Math.min(KINKS.length, values.length)));
        const x = slotOf('x', shape, n, values);
        const out = outSlot('a', shape, n);
        await checkNode(
          {
            label: `activation ${act} n=${n} x=${shape}`,
            node: activationNode('a', x, out, act),
            inputs: [x],
            params: [],
            n,
            ctx: contextOf(addon()),
            reference: (xt) => tfActivation(act, xt),
          },
          v,
        );
      }
    });
  });

  describe('merges, padding, dropout, fake quantization', () => {
    it('add of 2 and 3 inputs', async () => {
      const v = new Values(600);
      for (const [count, shape, n] of [
        [2, [7], 1],
        [3, [3, 5, 7], 2],
      ] as const) {
        const xs = Array.from({ length: count }, (_, i) =>
          slotOf(`x${i}`, [...shape], n, v.normal(n * sizeOf([...shape]))),
        );
        await checkNode(
          {
            label: `add ×${count} ${shape}`,
            node: addNode('sum', xs, outSlot('sum', [...shape], n)),
            inputs: xs,
            params: [],
            n,
            ctx: contextOf(addon()),
            reference: (...ts) => tf.addN(ts),
          },
          v,
        );
      }
    });

    it('add reading one slot twice: its gradient is summed through scratch', async () => {
      const v = new Values(601);
      const n = 3;
      const x = slotOf('x', [4, 3, 5], n, v.normal(n * 60));
      const y = slotOf('y', [4, 3, 5], n, v.normal(n * 60));
      const dy = v.normal(n * 60);
      const node = addNode('sum', [x, y, x], outSlot('sum', [4, 3, 5], n));
      const ctx = contextOf(addon());
      runNodes([node], [x, y], n, [dy], ctx);
      const ref = await onCpu(() => {
        const [xt, yt] = [tf.tensor(valuesOf(x, n)), tf.tensor(valuesOf(y, n))];
        return valueAndGrads((a, b) => tf.addN([a!, b!, a!]), [xt, yt], dy);
      });
      expectClose(valuesOf(node.out, n), ref.y, 'add(x, y, x): output');
      expectClose(gradOf(x, n), ref.grads[0]!, 'add(x, y, x): d x');
      expectClose(gradOf(y, n), ref.grads[1]!, 'add(x, y, x): d y');
    });

    it('concatenate along the last axis', async () => {
      const v = new Values(610);
      for (const [lead, n] of [
        [[] as number[], 1],
        [[3, 2], 2],
        [[5], 3],
      ] as const) {
        const widths = Array.from({ length: v.int(2, 3) }, () => v.int(1, 9));
        const xs = widths.map((w, i) => slotOf(`x${i}`, [...lead, w], n, v.normal(n * sizeOf([...lead, w]))));
        const total = widths.reduce((a, b) => a + b, 0);
        await checkNode(
          {
            label: `concat ${widths} after ${lead}`,
            node: concatNode('cat', xs, outSlot('cat', [...lead, total], n)),
            inputs: xs,
            params: [],
            n,
            ctx: contextOf(addon()),
            reference: (...ts) => tf.concat(ts, -1),
          },
          v,
        );
      }
    });

    it('zero padding, symmetric and not', async () => {
      const v = new Values(620);
      for (const n of [1, 2, 3]) {
        const [H, W, C] = [v.int(1, 6), v.int(1, 6), v.pick(ODD_CHANNELS)];
        const [top, bottom, left, right] = [v.int(0, 2), v.int(0, 2), v.int(0, 2), v.int(0, 2)];
        const x = slotOf('x', [H, W, C], n, v.normal(n * H * W * C));
        const out = outSlot('z', [H + top + bottom, W + left + right, C], n);
        await checkNode(
          {
            label: `zeroPad ${[top, bottom, left, right]} x=${[H, W, C]}`,
            node: zeroPadNode('z', x, out, top, left),
            inputs: [x],
            params: [],
            n,
            ctx: contextOf(addon()),
            reference: (xt) =>
              tf.pad(xt, [
                [0, 0],
                [top, bottom],
                [left, right],
                [0, 0],
              ]),
          },
          v,
        );
      }
    });

    it('dropout in training: the autograd path’s seeded mask, scaled by 1/(1 − rate)', async () => {
      const v = new Values(630);
      for (const [rate, n, step] of [
        [0.3, 1, 1],
        [0.5, 4, 7],
      ] as const) {
        const shape = [5, 3, 7];
        const x = slotOf('x', shape, n, v.normal(n * sizeOf(shape)));
        const out = outSlot('drop', shape, n);
        const ctx = contextOf(addon(), true, 21, step);
        await checkNode(
          {
            label: `dropout ${rate} step ${step}`,
            node: dropoutNode('drop', x, out, rate),
            inputs: [x],
            params: [],
            n,
            ctx,
            reference: (xt) => dropout(xt, rate, { seed: 21, step }, 'drop'),
          },
          v,
        );
        // The mask itself: about `rate` dropped, the rest scaled (a reference sharing a wrong mask would agree).
        const xs = valuesOf(x, n),
          ys = valuesOf(out, n);
        let dropped = 0;
        for (let i = 0; i < xs.length; i++)
          if (ys[i] === 0) dropped++;
          else expect(ys[i]).toBeCloseTo(xs[i]! / (1 - rate), 5);
        expect(Math.abs(dropped / xs.length - rate)).toBeLessThan(0.15);
      }
    });

    it('dropout is the identity in inference and at rate 0', async () => {
      const v = new Values(631);
      for (const [rate, training] of [
        [0.4, false],
        [0, true],
      ] as const) {
        const n = 2;
        const x = slotOf('x', [9], n, v.normal(n * 9));
        await checkNode(
          {
            label: `dropout ${rate} training=${training}`,
            node: dropoutNode('drop', x, outSlot('drop', [9], n), rate),
            inputs: [x],
            params: [],
            n,
            ctx: contextOf(addon(), training),
            reference: (xt) => tf.mul(xt, 1),
          },
          v,
        );
      }
    });

    it('activation fake quantization: quantized forward, gradient only inside the (float32) range', async () => {
      const v = new Values(640);
      const range = { min: -0.7, max: 1.3 };
      const quantizeInPlace = (values: Float32Array, r: { min: number; max: number }) => {
        for (let i = 0; i < values.length; i++)
          values[i] = Math.round(Math.min(Math.max(values[i]!, r.min), r.max) * 8) / 8;
      };
      const edges = [Math.fround(range.min), Math.fround(range.max), -0.7, 1.3, -0.70001, 1.30001, 0];
      for (const [shape, n] of [
        [[11], 1],
        [[3, 4, 5], 2],
      ] as const) {
        const values = v.normal(n * sizeOf([...shape]));
        values.set(edges);
        const x = slotOf('x', [...shape], n, values);
        const hook = steActivation(new Map([['h', range]]), quantizeInPlace);
        await checkNode(
          {
            label: `fakeQuant x=${shape}`,
            node: fakeQuantNode('h', x, outSlot('h:fake-quant', [...shape], n), range, quantizeInPlace),
            inputs: [x],
            params: [],
            n,
            ctx: contextOf(addon()),
            reference: (xt) => hook(0, 'h', xt),
          },
          v,
        );
      }
    });
  });

  describe('batch norm', () => {
    const cases = [
      { shape: [5], n: 4, scale: true, center: true },
      { shape: [3, 5, 7], n: 2, scale: true, center: true },
      { shape: [4, 3, 13], n: 1, scale: false, center: true },
      { shape: [2, 2, 3], n: 3, scale: true, center: false },
      { shape: [9], n: 6, scale: false, center: false },
      // Channels far from 0 against their spread, where Σx² − R·mean² in float32 would cancel.
      { shape: [4, 4, 5], n: 3, scale: true, center: true, offset: 100, spread: 0.5 },
    ];
    it.each(cases)('training over the batch: x %j', async ({ shape, n, scale, center, offset = 0, spread = 3 }) => {
      const v = new Values(700 + sizeOf(shape) + n);
      const C = shape[shape.length - 1]!;
      const [epsilon, momentum] = [1e-3, 0.9];
      const x = slotOf(
        'x',
        shape,
        n,
        v.normal(n * sizeOf(shape), spread).map((a, i) => a + (i % C) + offset),
      );
      const gamma = scale
        ? paramOf(
            'bn/gamma',
            [C],
            v.normal(C, 0.5).map((g) => g + 1),
          )
        : null;
      const beta = center ? paramOf('bn/beta', [C], v.normal(C)) : null;
      const movingMean = paramOf('bn/moving_mean', [C], v.normal(C), false);
      const movingVariance = paramOf(
        'bn/moving_variance',
        [C],
        v.normal(C).map((s) => s * s + 0.5),
        false,
      );
      const before = { mean: movingMean.value.slice(), variance: movingVariance.value.slice() };
      const node = batchNormNode('bn', x, outSlot('bn', shape, n), {
        gamma,
        beta,
        movingMean,
        movingVariance,
        epsilon,
        momentum,
      });
      const axes = shape.map((_, i) => i); // every axis of [n, ...shape] but the channels
      await checkNode(
        {
          label: `batchNorm training x=${shape} n=${n}`,
          node,
          inputs: [x],
          params: [gamma, beta].filter((p): p is Param => p !== null),
          n,
          ctx: contextOf(addon(), true),
          reference: (xt, ...ws) => {
            const { mean, variance } = tf.moments(xt!, axes);
            // tfjs' batchNorm gradient needs both tensors: absent ones are the constants 1 and 0.
            const g = gamma ? ws[0]! : tf.ones([C]);
            const b = beta ? ws[gamma ? 1 : 0]! : tf.zeros([C]);
            return tf.batchNorm(xt!, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, epsilon);
          },
          rtol: 2e-4,
        },
        v,
      );
      // After the optimizer step: moving ← moving − (moving − batch)·(1 − momentum), as tfjs-layers.
      node.afterStep!();
      const ref = await onCpu(() => {
        const { mean, variance } = tf.moments(tf.tensor(valuesOf(x, n), [n, ...shape]), axes);
        const move = (m: Float32Array, batch: tf.Tensor) => tf.sub(m, tf.mul(tf.sub(m, batch), 1 - momentum));
        return [move(before.mean, mean), move(before.variance, variance)];
      });
      expectClose(movingMean.value, ref[0]!, 'moving mean', 1e-5);
      expectClose(movingVariance.value, ref[1]!, 'moving variance', 1e-5);
    });

    it.each(cases.slice(0, 3))('inference with the moving statistics: x %j', async ({ shape, n }) => {
      const v = new Values(750 + sizeOf(shape));
      const C = shape[shape.length - 1]!;
      const epsilon = 1e-3;
      const x = slotOf('x', shape, n, v.normal(n * sizeOf(shape), 2));
      const gamma = paramOf(
        'bn/gamma',
        [C],
        v.normal(C, 0.5).map((g) => g + 1),
      );
      const beta = paramOf('bn/beta', [C], v.normal(C));
      const movingMean = paramOf('bn/moving_mean', [C], v.normal(C), false);
      const movingVariance = paramOf(
        'bn/moving_variance',
        [C],
        v.normal(C).map((s) => s * s + 0.5),
        false,
      );
      const stats = { mean: movingMean.value.slice(), variance: movingVariance.value.slice() };
      const node = batchNormNode('bn', x, outSlot('bn', shape, n), {
        gamma,
        beta,
        movingMean,
        movingVariance,
        epsilon,
        momentum: 0.99,
      });
      await checkNode(
        {
          label: `batchNorm inference x=${shape} n=${n}`,
          node,
          inputs: [x],
          params: [gamma, beta],
          n,
          ctx: contextOf(addon(), false),
          reference: (xt, g, b) =>
            tf.batchNorm(
              xt!,
              tf.tensor1d(stats.mean),
              tf.tensor1d(stats.variance),
              b as tf.Tensor1D,
              g as tf.Tensor1D,
              epsilon,
            ),
        },
        v,
      );
      node.afterStep!();
      expect(movingMean.value).toEqual(stats.mean);
      expect(movingVariance.value).toEqual(stats.variance);
    });
  });

  // The C++ kernels split work over threads only above a size (GEMM panels and row strips, batch
  // norm's 512 rows, relu's 65536 values): these run those paths, as training batches do.
  describe('at training-batch sizes (the kernels’ multi-threaded paths)', () => {
    it('dense 150 → 130 over 40 samples, relu and tanh', async () => {
      const v = new Values(1000);
      for (const act of ['relu', 'tanh']) {
        const [n, k, units] = [40, 150, 130];
        const x = slotOf('x', [k], n, v.normal(n * k));
        const kernel = paramOf('d/kernel', [k, units], v.normal(k * units, 2 / Math.sqrt(k)));
        const bias = paramOf('d/bias', [units], v.normal(units, 0.5));
        await checkNode(
          {
            label: `dense ${act} ${k}→${units} n=${n}`,
            node: denseNode('d', x, outSlot('d', [units], n), kernel, bias, act),
            inputs: [x],
            params: [kernel, bias],
            n,
            ctx: contextOf(addon()),
            reference: (xt, w, b) => tfActivation(act, tf.add(tf.matMul(xt!, w!), b!)),
          },
          v,
        );
      }
    });

    it.each([
      { shape: [10, 10, 17], n: 6 },
      { shape: [9], n: 530 },
    ])('batch norm in training over ≥ 512 rows: x %j', async ({ shape, n }) => {
      const v = new Values(1010 + n);
      const C = shape[shape.length - 1]!;
      const x = slotOf('x', shape, n, v.normal(n * sizeOf(shape), 2));
      const gamma = paramOf(
        'bn/gamma',
        [C],
        v.normal(C, 0.5).map((g) => g + 1),
      );
      const beta = paramOf('bn/beta', [C], v.normal(C));
      const moving = () => paramOf('bn/moving', [C], new Float32Array(C).fill(1), false);
      const node = batchNormNode('bn', x, outSlot('bn', shape, n), {
        gamma,
        beta,
        movingMean: moving(),
        movingVariance: moving(),
        epsilon: 1e-3,
        momentum: 0.99,
      });
      const axes = shape.map((_, i) => i);
      await checkNode(
        {
          label: `batchNorm training x=${shape} n=${n}`,
          node,
          inputs: [x],
          params: [gamma, beta],
          n,
          ctx: contextOf(addon(), true),
          reference: (xt, g, b) => {
            const { mean, variance } = tf.moments(xt!, axes);
            return tf.batchNorm(xt!, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3);
          },
          rtol: 2e-4,
        },
        v,
      );
    });

    it.each(['relu', 'relu6'])('%s over 73 728 values', async (act) => {
      const v = new Values(1020);
      const [n, shape] = [3, [32, 32, 24]];
      const x = slotOf('x', shape, n, v.normal(n * sizeOf(shape), 4));
      await checkNode(
        {
          label: `activation ${act} n=${n} x=${shape}`,
          node: activationNode('a', x, outSlot('a', shape, n), act),
          inputs: [x],
          params: [],
          n,
          ctx: contextOf(addon()),
          reference: (xt) => tfActivation(act, xt!),
        },
        v,
      );
    });
  });

  describe('a first layer (its input, the batch, has no gradient)', () => {
    const [n, H, W, C] = [3, 6, 5, 3];
    const first = (v: Values) => slotOf('input', [H, W, C], n, v.normal(n * H * W * C), false);

    it('dense over the flattened input', async () => {
      const v = new Values(1100);
      const x = first(v);
      const k = paramOf('d/kernel', [H * W * C, 7], v.normal(H * W * C * 7, 0.2));
      const b = paramOf('d/bias', [7], v.normal(7));
      await checkNode(
        {
          label: 'dense on the input',
          node: denseNode('d', reshapeSlot(x, 'flat', [H * W * C]), outSlot('d', [7], n), k, b, 'selu'),
          inputs: [x],
          params: [k, b],
          n,
          ctx: contextOf(addon()),
          reference: (xt, w, bt) => tf.selu(tf.add(tf.matMul(tf.reshape(xt!, [n, -1]), w!), bt!)),
        },
        v,
      );
    });

    it('conv2d', async () => {
      const v = new Values(1101);
      const x = first(v);
      const dims = convDims([H, W, C], [3, 3, C, 4], 1, 'valid');
      const k = paramOf('c/kernel', [3, 3, C, 4], v.normal(36 * C, 0.3));
      await checkNode(
        {
          label: 'conv2d on the input',
          node: conv2dNode('c', x, outSlot('c', [dims.outHeight, dims.outWidth, 4], n), k, null, 'relu', dims),
          inputs: [x],
          params: [k],
          n,
          ctx: contextOf(addon()),
          reference: (xt, w) => tf.relu(tf.conv2d(xt as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')),
        },
        v,
      );
    });

    it.each([false, true])('depthwise (separable %s)', async (separable) => {
      const v = new Values(1102);
      const x = first(v);
      const dims = depthwiseDimsOf([H, W, C], [3, 3, C, 2], 2, 'same');
      const d = paramOf('s/depthwise_kernel', [3, 3, C, 2], v.normal(18 * C, 0.5));
      const p = separable ? paramOf('s/pointwise_kernel', [1, 1, 2 * C, 5], v.normal(10 * C, 0.5)) : null;
      const F = separable ? 5 : 2 * C;
      await checkNode(
        {
          label: `${separable ? 'separable' : 'depthwise'} on the input`,
          node: depthwiseNode('s', x, outSlot('s', [dims.outHeight, dims.outWidth, F], n), d, p, null, 'linear', dims),
          inputs: [x],
          params: p ? [d, p] : [d],
          n,
          ctx: contextOf(addon()),
          reference: (xt, dt, pt) =>
            pt
              ? tf.separableConv2d(xt as tf.Tensor4D, dt as tf.Tensor4D, pt as tf.Tensor4D, 2, 'same')
              : tf.depthwiseConv2d(xt as tf.Tensor4D, dt as tf.Tensor4D, 2, 'same'),
        },
        v,
      );
    });

    it('batch norm', async () => {
      const v = new Values(1103);
      const x = first(v);
      const gamma = paramOf(
        'bn/gamma',
        [C],
        v.normal(C, 0.5).map((g) => g + 1),
      );
      const beta = paramOf('bn/beta', [C], v.normal(C));
      const moving = () => paramOf('bn/moving', [C], new Float32Array(C).fill(1), false);
      const bn = { gamma, beta, movingMean: moving(), movingVariance: moving(), epsilon: 1e-3, momentum: 0.99 };
      await checkNode(
        {
          label: 'batch norm on the input',
          node: batchNormNode('bn', x, outSlot('bn', [H, W, C], n), bn),
          inputs: [x],
          params: [gamma, beta],
          n,
          ctx: contextOf(addon(), true),
          reference: (xt, g, b) => {
            const { mean, variance } = tf.moments(xt!, [0, 1, 2]);
            return tf.batchNorm(xt!, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3);
          },
          rtol: 2e-4,
        },
        v,
      );
    });
  });

  describe('a slot read by several nodes', () => {
    it('conv, a flattened view feeding dense, and global pooling: the input gradient is their sum', async () => {
      const v = new Values(800);
      const [n, H, W, C] = [3, 5, 6, 3];
      const x = slotOf('x', [H, W, C], n, v.normal(n * H * W * C));
      const filter: [number, number, number, number] = [3, 3, C, 4];
      const dims = convDims([H, W, C], filter, 2, 'same');
      const kernel = paramOf('c/kernel', filter, v.normal(sizeOf(filter), 0.3));
      const conv = conv2dNode('c', x, outSlot('c', [dims.outHeight, dims.outWidth, 4], n), kernel, null, 'tanh', dims);
      const flat = reshapeSlot(x, 'flat', [H * W * C]);
      const dk = paramOf('d/kernel', [H * W * C, 5], v.normal(H * W * C * 5, 0.1));
      const dense = denseNode('d', flat, outSlot('d', [5], n), dk, null, 'relu');
      const pool = globalAvgPoolNode('g', x, outSlot('g', [C], n));
      const nodes = [conv, dense, pool];
      const dys = nodes.map((node) => v.normal(n * node.out.size));
      const xs = valuesOf(x, n).slice();
      runNodes(nodes, [x], n, dys, contextOf(addon()));
      const ref = await onCpu(() => {
        const f = (xt: tf.Tensor, k: tf.Tensor, d: tf.Tensor) =>
          tf.addN([
            tf.sum(
              tf.mul(
                tf.tanh(tf.conv2d(xt as tf.Tensor4D, k as tf.Tensor4D, 2, 'same')),
                tf.tensor(dys[0]!, [n, dims.outHeight, dims.outWidth, 4]),
              ),
            ),
            tf.sum(tf.mul(tf.relu(tf.matMul(tf.reshape(xt, [n, -1]), d)), tf.tensor(dys[1]!, [n, 5]))),
            tf.sum(tf.mul(tf.mean(xt, [1, 2]), tf.tensor(dys[2]!, [n, C]))),
          ]);
        const ts = [tf.tensor(xs, [n, H, W, C]), tf.tensor(kernel.value, filter), tf.tensor(dk.value, dk.shape)];
        return valueAndGrads((a, b, c) => f(a!, b!, c!), ts, Float32Array.of(1));
      });
      expectClose(gradOf(x, n), ref.grads[0]!, 'd x (three consumers)');
      expectClose(kernel.grad!, ref.grads[1]!, 'd conv kernel');
      expectClose(dk.grad!, ref.grads[2]!, 'd dense kernel');
    });
  });

  describe('softmax cross-entropy from logits', () => {
    const cases = [
      { n: 1, classes: 2, smoothing: 0, scale: 1 },
      { n: 5, classes: 10, smoothing: 0, scale: 3 },
      { n: 7, classes: 13, smoothing: 0.1, scale: 1 },
      { n: 4, classes: 10, smoothing: 0.2, scale: 30 },
    ];
    const inputs = (v: Values, n: number, classes: number, scale: number) => ({
      z: v.normal(n * classes, scale),
      labels: Int32Array.from({ length: n }, () => v.int(0, classes - 1)),
    });

    it.each(cases)('value, hits and d logits: %j', async ({ n, classes, smoothing, scale }) => {
      const v = new Values(900 + n * classes);
      const { z, labels } = inputs(v, n, classes, scale);
      const dz = new Float32Array(n * classes).fill(Number.NaN);
      const result = softmaxCrossEntropy(z, labels, n, classes, smoothing, dz);
      const ref = await onCpu(() => {
        const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
        const { y, grads } = valueAndGrads(
          (logits) => tf.losses.softmaxCrossEntropy(onehot, logits!, undefined, smoothing),
          [tf.tensor(z, [n, classes])],
          Float32Array.of(1),
        );
        return { y, grads, predicted: tf.argMax(tf.tensor(z, [n, classes]), -1) };
      });
      expectClose(Float32Array.of(result.loss), ref.y, 'loss', 1e-5);
      expectClose(dz, ref.grads[0]!, 'd logits', 1e-4);
      expect(result.hits).toBe(labels.filter((l, i) => ref.predicted[i] === l).length);
      // Without a gradient buffer: the same value.
      expect(softmaxCrossEntropy(z, labels, n, classes, smoothing, null).loss).toBe(result.loss);
    });

    it.each([
      { temperature: 1, alpha: 0.5, smoothing: 0 },
      { temperature: 4, alpha: 0.7, smoothing: 0 },
      { temperature: 2.5, alpha: 0.9, smoothing: 0.1 },
    ])(
      'distillation: value and d logits as the trainer’s distillationLoss, %j',
      async ({ temperature, alpha, smoothing }) => {
        const v = new Values(950 + temperature * 10);
        const [n, classes] = [6, 10];
        const { z, labels } = inputs(v, n, classes, 3);
        const teacher = v.normal(n * classes, 4);
        const dz = new Float32Array(n * classes).fill(Number.NaN);
        const result = softmaxCrossEntropy(z, labels, n, classes, smoothing, dz, { teacher, temperature, alpha });
        const ref = await onCpu(() =>
          valueAndGrads(
            (logits) =>
              distillationLoss(
                tf.tensor1d(labels, 'int32'),
                logits!,
                tf.tensor(teacher, [n, classes]),
                temperature,
                alpha,
                smoothing,
              ),
            [tf.tensor(z, [n, classes])],
            Float32Array.of(1),
          ),
        );
        expectClose(Float32Array.of(result.loss), ref.y, 'distillation loss', 1e-5);
        expectClose(dz, ref.grads[0]!, 'd logits', 1e-4);
      },
    );
  });
});
