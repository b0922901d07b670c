/**
 * Micro-benchmark of the compressors (`pnpm bench`). Each transform is reported against a plain
 * copy of the same array in the same run, because absolute milliseconds say more about the machine
 * than about the code: "3× copy" is comparable across laptops and CI runners, "4 ms" is not.
 */
import { machineLine, ratioRows, reexecWithFixedAllocator, sink, table } from './bench_harness.js';
import { createRng } from '@squash/core';
import { calibrateMinMax, fakeQuantizeImpl, fakeQuantizeInPlace } from './activation.js';
import { clipImpl } from './clip.js';
import { pruneByMagnitudeImpl, pruneGlobalByMagnitude } from './prune.js';
import { dequantize, quantizeTensor } from './quant/index.js';
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
  ['symmetric', 8],
  ['symmetric', 4],
  ['asymmetric', 8],
  ['asymmetric', 4],
  ['pow2', 8],
  ['pow2', 4],
  ['kmeans', 5],
  ['binary', 1],
  ['ternary', 2],
];

reexecWithFixedAllocator(import.meta.url);

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
    ...SCHEMES.flatMap(([scheme, bits]) =>
      ([null, -1] as const).map((channelAxis): [string, () => ArrayLike<number>] => [
        `${scheme} ${bits}-bit per ${channelAxis === null ? 'tensor' : `channel (${shape[1]})`}`,
        () => quantizeTensor(w, shape, { scheme, bits, channelAxis }).codes,
      ]),
    ),
    ['dequantize (8-bit per channel)', () => dequantize(q8)],
    ['prune r=0.1', () => pruneByMagnitudeImpl(w, 0.1).values],
    ['prune r=0.5', () => pruneByMagnitudeImpl(w, 0.5).values],
    [`prune global r=0.1 (${split.length} tensors)`, () => pruneGlobalByMagnitude(parts, 0.1).values[0]],
    [`unit norms l2 [${shape.join(', ')}]`, () => unitNorms(w, shape, -1, 'l2')],
    ['fake-quantize 8-bit', () => fakeQuantizeImpl(w, range, 8)],
    [
      'fake-quantize 8-bit in place',
      () => {
        scratch.set(w);
        fakeQuantizeInPlace(scratch, range, 8);
        return scratch;
      },
    ],
  ];
  return ratioRows(n, rows, RUNS, WARMUP);
}

console.log(machineLine());
console.log('backend: none (pure TypeScript over Float32Array)');
console.log(
  `median of ${RUNS} runs after ${WARMUP} warm-up runs; × copy = time / Float32Array.prototype.slice of the same array\n`,
);
const rows: string[][] = [];
for (const size of SIZES) rows.push(...bench(size));
console.log(table(['transform', 'weights', 'ms (median)', 'Mweights/s', '× copy'], rows));
if (Number.isNaN(sink)) console.log('');
