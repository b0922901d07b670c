import type { DepthwiseDims } from './kernels/depthwise.js';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The C++ functions (csrc/kernels.cc) and their contract. Arrays are read and written in place;
 * each kernel's dimensions travel as one object with the names below, which the C++ side reads by
 * name and checks (integers in range, output sizes that follow from input, filter, stride and
 * padding, every array's length): a mismatch throws an Error naming the kernel and the shapes.
 */
export interface Addon {
  matMul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    bias: Float32Array | null,
    act: Act,
    dims: MatMulDims,
  ): void;
  conv2d(x: Float32Array, w: Float32Array, y: Float32Array, bias: Float32Array | null, act: Act, dims: ConvDims): void;
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, dims: ConvDims): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, dims: ConvDims): void;
  maxPool(x: Float32Array, y: Float32Array, dims: PoolDims): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, dims: PoolDims): void;
  sumRows(x: Float32Array, out: Float32Array, dims: SumRowsDims): void;
  /**
   * One Adam (or AdamW) step over w, g and the moments m, v (all one length), written to out (which
   * may be w itself: each element is read before it is written); m and v updated.
   */
  adam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array, params: AdamParams): void;
  /**
   * One SGD step (PyTorch's torch.optim.SGD, dampening 0) over w and g, written to out (may be w);
   * buf, the momentum buffer, is updated: w's length when momentum > 0 (zeros before the first
   * step), otherwise it may be empty and is not touched.
   */
  sgd(w: Float32Array, g: Float32Array, buf: Float32Array, out: Float32Array, params: SgdParams): void;
  /** y = min(max(x, 0), cap) elementwise; cap 0: no upper bound (relu), 6: relu6. y may be x. */
  relu(x: Float32Array, y: Float32Array, cap: number): void;
  /** dx = dy where 0 < v (and v ≤ cap when cap > 0), else 0; v is relu's output or relu6's input. dx may be dy. */
  reluGrad(v: Float32Array, dy: Float32Array, dx: Float32Array, cap: number): void;
  /**
   * Batch normalization over rows × channels (channels last). Training: writes the batch's mean and
   * biased variance (float32 from double sums), x̂ (when given) and y = x̂·γ + β. Inference: reads
   * mean and variance (the moving ones). γ and β may be null (1 and 0).
   */
  batchNormForward(
    x: Float32Array,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    y: Float32Array,
    xhat: Float32Array | null,
    mean: Float32Array,
    variance: Float32Array,
    dims: BatchNormDims & { training: boolean },
  ): void;
  /** The batch-norm backward pass from x̂ and the batch variance: dx, dγ, dβ (each optional). */
  batchNormBackward(
    dy: Float32Array,
    xhat: Float32Array,
    gamma: Float32Array | null,
    variance: Float32Array,
    dx: Float32Array | null,
    dgamma: Float32Array | null,
    dbeta: Float32Array | null,
    dims: BatchNormDims,
  ): void;
  /** Depthwise convolution (NHWC, dilation 1), filter [fh, fw, C, M]: output channel c·M + m. */
  depthwiseConv2d(x: Float32Array, filter: Float32Array, y: Float32Array, dims: DepthwiseDims): void;
  depthwiseConv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, dims: DepthwiseDims): void;
  /** dW summed in double over the batch and positions. */
  depthwiseConv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, dims: DepthwiseDims): void;
  info(): { threads: number; isa: string };
}

/** Batch norm's extent: rows (every axis but the last) × channels, and ε. */
export interface BatchNormDims {
  rows: number;
  channels: number;
  epsilon: number;
}

/** The epilogue after a matMul or conv: 0 none, 1 relu (a bias, when given, is added first). */
export type Act = 0 | 1;

/**
 * c[batch][m×n] = op(a)·op(b): op(a) is m×k, op(b) k×n. A batch stride of 0 uses one matrix for
 * every batch entry (a broadcast); otherwise it is m·k (a) or k·n (b).
 */
export interface MatMulDims {
  batch: number;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  aBatchStride: number;
  bBatchStride: number;
}

/** A 2-D convolution, NHWC input and output, [filterHeight, filterWidth, inChannels, outChannels] filter. */
export interface ConvDims {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

/** A 2-D max pool over NHWC input (no dilation). */
export interface PoolDims {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

/** out[columns] = the sum of x's rows (x is rows × columns, row-major). */
export interface SumRowsDims {
  rows: number;
  columns: number;
}

/**
 * Adam's float32 constants for one step (tfjs' names: β1, β2, ε; the powers are β1ᵗ and β2ᵗ). Per
 * element, in float32: g' = g·gradScale, plus λ·w unless decoupled; m = β1·m + (1−β1)·g';
 * v = β2·v + (1−β2)·g'²; out = (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε) · −lr + w', where w' is
 * w·(1 − lr·λ) when decoupled (that factor formed in double, as PyTorch's AdamW does) and w otherwise.
 * The last three fields may be left out (λ 0, coupled, scale 1): then it is exactly tfjs' Adam.
 */
export interface AdamParams {
  learningRate: number;
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  epsilon: number;
  oneMinusBeta1Power: number;
  oneMinusBeta2Power: number;
  /** λ ≥ 0: L2 added to the gradient (Adam), or the decoupled decay (AdamW). */
  weightDecay?: number;
  /** 1: AdamW (Loshchilov & Hutter) — decay the weights by lr·λ·w apart from the gradient; 0: Adam with L2. */
  decoupled?: 0 | 1;
  /** ≥ 0, multiplies every gradient before anything else: global-norm clipping's factor (1 = none). */
  gradScale?: number;
}

/**
 * SGD's constants for one step. Per element, in float32: g' = g·gradScale + λ·w; with momentum
 * μ > 0, buf = μ·buf + g' and the step d = g' + μ·buf (Nesterov) or buf; without, d = g';
 * out = w − lr·d. All fields are required; nesterov needs momentum > 0.
 */
export interface SgdParams {
  learningRate: number;
  /** μ ≥ 0 (0 = plain SGD; buf may then be empty). */
  momentum: number;
  /** 1: Nesterov momentum (as PyTorch and tf.train.momentum(lr, μ, true) compute it). */
  nesterov: 0 | 1;
  /** λ ≥ 0: L2 added to the gradient. */
  weightDecay: number;
  /** ≥ 0, multiplies every gradient first: global-norm clipping's factor (1 = none). */
  gradScale: number;
}

export type AddonLoad = { addon: Addon; why: string } | { addon?: undefined; why: string };

let loaded: AddonLoad | undefined;

/**
 * Where the build put squash_native.node: this package's dist/ (also found from src/ under vitest),
 * or SQUASH_NATIVE_DIR when set (the build script honours it too).
 */
const distDir = process.env.SQUASH_NATIVE_DIR || join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

/**
 * Loads the compiled addon once. Never throws: without it, `why` says what went wrong (not built
 * and the build's reason, SQUASH_NATIVE=0, or the loader's error).
 */
export function loadAddon(): AddonLoad {
  if (loaded) return loaded;
  if (process.env.SQUASH_NATIVE === '0') return (loaded = { why: 'disabled by SQUASH_NATIVE=0' });
  const file = join(distDir, 'squash_native.node');
  if (!existsSync(file)) {
    let reason = 'not built';
    try {
      reason = `not built: ${(JSON.parse(readFileSync(join(distDir, 'addon-status.json'), 'utf8')) as { reason: string }).reason}`;
    } catch {
      /* no status file: the build never ran */
    }
    return (loaded = { why: `native addon ${reason}` });
  }
  try {
    const addon = createRequire(import.meta.url)(file) as Addon;
    const { threads, isa } = addon.info();
    return (loaded = { addon, why: `${isa}, ${threads} thread${threads === 1 ? '' : 's'}` });
  } catch (e) {
    return (loaded = { why: `native addon failed to load: ${(e as Error).message.split('\n')[0]}` });
  }
}
