import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The C++ functions (csrc/kernels.cc). Arrays are read and written in place; sizes are trusted. */
export interface Addon {
  matMul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batch: number,
    m: number,
    k: number,
    n: number,
    transA: number,
    transB: number,
    aBatchStride: number,
    bBatchStride: number,
    bias: Float32Array | null,
    act: number,
  ): void;
  conv2d(
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    bias: Float32Array | null,
    act: number,
    ...dims: number[]
  ): void;
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, ...dims: number[]): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, ...dims: number[]): void;
  maxPool(x: Float32Array, y: Float32Array, ...dims: number[]): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, ...dims: number[]): void;
  sumRows(x: Float32Array, rows: number, n: number, out: Float32Array): void;
  adam(
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lr: number,
    b1: number,
    oneMinusB1: number,
    b2: number,
    oneMinusB2: number,
    eps: number,
    oneMinusAccB1: number,
    oneMinusAccB2: number,
  ): void;
  info(): { threads: number; isa: string };
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
