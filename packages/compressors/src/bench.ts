/**
 * Micro-benchmark of the compressors (`pnpm bench`). Each transform is reported against a plain
 * copy of the same array in the same run, because absolute milliseconds say more about the machine
 * than about the code: "3× copy" is comparable across laptops and CI runners, "4 ms" is not.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createRng } from '@squash/core';
import { calibrateMinMax, fakeQuantizeImpl, fakeQuantizeInPlace } from './activation.js';
import { clipImpl } from './clip.js';
import { pruneByMagnitudeImpl, pruneGlobalByMagnitude } from './prune.js';
import { dequantize, quantizeTensor } from './quant/index.js';
import { quantizeSymmetricImpl } from './quantize.js';
import type { QuantScheme } from './quantized_tensor.js';
import { unitNorms } from './structured.js';

const RUNS = 5;
const WARMUP = 5;
/**
 * LeNet-300-100's weight count (784·300 + 300·100 + 100·10), and a mid-sized CNN's, with the 2-D
 * shape used for per-channel rows (channels = last axis) and the split used for global pruning.
 */
const SIZES = [
  { n: 266_200, shape: [2662, 100], split: [235_200, 30_000, 1000] },
  { n: 4_000_000, shape: [8000, 500], split: [1_000_000, 1_000_000, 1_000_000, 1_000_000] },
];
/** Scheme rows: each per tensor and per channel. */
const SCHEMES: [QuantScheme, number][] = [
  ['symmetric', 8], ['symmetric', 4], ['asymmetric', 8], ['asymmetric', 4], ['pow2', 8], ['pow2', 4],
  ['kmeans', 5], ['binary', 1], ['ternary', 2],
];

/**
 * Every transform returns a fresh array. A fresh multi-megabyte buffer is either recycled memory
 * or new pages that fault on first touch, and which one depends on glibc's adaptive mmap/trim
 * thresholds and on when V8 last collected. In some sandboxes a page fault costs ~10 µs, so a
 * 16 MB copy takes 2 ms or 50 ms by luck, and medians flip between the two. We therefore re-run
 * ourselves with fixed glibc thresholds (freed buffers stay in the heap and are reused; no effect
 * off glibc) and collect before every timed run, so all rows start from the same allocator state
 * and measure the transform rather than the allocator's history.
 */
const MALLOC_ENV = {
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(4 * 1024 * 1024 * 1024),
};
if (process.env.SQUASH_BENCH_CHILD !== '1') {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ...MALLOC_ENV, SQUASH_BENCH_CHILD: '1' },
  });
  process.exit(r.status ?? 1);
}
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let sink = 0;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median wall time over RUNS after WARMUP untimed runs (which let V8 optimize the loop). */
function time(fn: () => ArrayLike<number> | void): number {
  for (let i = 0; i < WARMUP; i++) fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    gc();
    const t0 = performance.now();
    const out = fn();
    ms.push(performance.now() - t0);
    if (out) sink += out[out.length >> 1];
  }
  return median(ms);
}

function weights(n: number): Float32Array {
  const rng = createRng(n);
  // He-like scale for a 784-wide layer; the distribution only matters for prune's sort and clip's branch.
  const sigma = Math.sqrt(2 / 784);
  return new Float32Array(n).map(() => rng.normal() * sigma);
}

function bench({ n, shape, split }: (typeof SIZES)[number]): string[][] {
  const w = weights(n);
  const range = calibrateMinMax(w);
  const scratch = new Float32Array(n);
  let at = 0;
  const parts = split.map((len) => w.subarray(at, (at += len)));
  const q8 = quantizeTensor(w, shape, { scheme: 'symmetric', bits: 8, channelAxis: -1 });
  const rows: [string, () => ArrayLike<number> | void][] = [
    ['copy (baseline)', () => w.slice()],
    ['clip T=0.1', () => clipImpl(w, 0.1).values],
    ['quantizeSymmetricImpl 8-bit', () => quantizeSymmetricImpl(w, 8).values],
    ['quantizeSymmetricImpl 4-bit', () => quantizeSymmetricImpl(w, 4).values],
    ...SCHEMES.flatMap(([scheme, bits]) => ([null, -1] as const).map((channelAxis): [string, () => ArrayLike<number>] => [
      `${scheme} ${bits}-bit per ${channelAxis === null ? 'tensor' : `channel (${shape[1]})`}`,
      () => quantizeTensor(w, shape, { scheme, bits, channelAxis }).codes,
    ])),
    ['dequantize (8-bit per channel)', () => dequantize(q8)],
    ['prune r=0.1', () => pruneByMagnitudeImpl(w, 0.1).values],
    ['prune r=0.5', () => pruneByMagnitudeImpl(w, 0.5).values],
    [`prune global r=0.1 (${split.length} tensors)`, () => pruneGlobalByMagnitude(parts, 0.1).values[0]],
    [`unit norms l2 [${shape.join(', ')}]`, () => unitNorms(w, shape, -1, 'l2')],
    ['fake-quantize 8-bit', () => fakeQuantizeImpl(w, range, 8)],
    ['fake-quantize 8-bit in place', () => {
      scratch.set(w);
      fakeQuantizeInPlace(scratch, range, 8);
      return scratch;
    }],
  ];
  let copyMs = 0;
  return rows.map(([label, fn]) => {
    const ms = time(fn);
    if (label.startsWith('copy')) copyMs = ms;
    return [label, n.toLocaleString('en-US'), ms.toFixed(2), (n / ms / 1e3).toFixed(0), `${(ms / copyMs).toFixed(1)}×`];
  });
}

function table(rows: string[][]): string {
  const head = ['transform', 'weights', 'ms (median)', 'Mweights/s', '× copy'];
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const cpus = os.cpus();
console.log(`cpu: ${cpus[0]?.model ?? 'unknown'} (${cpus.length} cpus), node ${process.version}`);
console.log('backend: none (pure TypeScript over Float32Array)');
console.log(`median of ${RUNS} runs after ${WARMUP} warm-up runs; × copy = time / Float32Array.prototype.slice of the same array\n`);
const rows: string[][] = [];
for (const size of SIZES) rows.push(...bench(size));
console.log(table(rows));
if (Number.isNaN(sink)) console.log('');
