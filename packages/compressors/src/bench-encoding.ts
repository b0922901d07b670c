/**
 * Throughput of Huffman coding (`node packages/compressors/dist/bench-encoding.js`), reported next
 * to a plain Uint16Array copy of the same symbols in the same run — as in bench.ts, "× copy" is
 * comparable across machines where milliseconds are not.
 *
 * Symbols come from a skewed 32-symbol distribution like 5-bit k-means codes of trained weights
 * (most weights in the few clusters near zero): |N(0, 1)|·6, clamped to 31.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createRng } from '@squash/core';
import { BitReader, BitWriter } from './encoding/bitstream.js';
import { huffmanCodeLengths, huffmanDecode, huffmanEncode } from './encoding/huffman.js';

const RUNS = 7;
const WARMUP = 20;
/** LeNet-300-100's weight count, and a mid-sized CNN's. */
const SIZES = [266_200, 4_000_000];
const ALPHABET = 32;

/**
 * Fresh multi-megabyte outputs are recycled memory or newly faulted pages depending on glibc's
 * adaptive mmap/trim thresholds, and a page fault can cost ~10 µs in a sandbox. As in bench.ts,
 * we re-run ourselves with fixed thresholds so every row starts from the same allocator state.
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

/**
 * Median wall time over RUNS after WARMUP untimed runs (V8 needs ~10 calls to tier the coders up),
 * collecting garbage before each run as bench.ts does. That GC is also a test of the coders: it
 * collects every BitWriter/BitReader, and code that touched their properties in its hot loop got
 * deoptimized each time (see packSymbols in bitstream.ts). A cold first call in a fresh process —
 * decoding one layer once — is slower: decoding ran at ~17 (266k) and ~32 (4M) Msymbols/s on a
 * machine where it ran at ~95 warm, as V8 starts in the interpreter and switches mid-loop.
 */
function time(fn: () => ArrayLike<number>): number {
  for (let i = 0; i < WARMUP; i++) sink += fn().length;
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    gc();
    const t0 = performance.now();
    const out = fn();
    ms.push(performance.now() - t0);
    sink += out.length;
  }
  return median(ms);
}

function bench(n: number): { rows: string[][]; note: string } {
  const rng = createRng(n);
  const symbols = new Uint16Array(n).map(() => Math.min(ALPHABET - 1, Math.floor(Math.abs(rng.normal()) * 6)));
  const freqs = new Float64Array(ALPHABET);
  for (const s of symbols) freqs[s]++;
  const lengths = huffmanCodeLengths(freqs);
  const encode = (): Uint8Array => {
    const w = new BitWriter(n);
    huffmanEncode(symbols, lengths, w);
    return w.finish().bytes;
  };
  const encoded = encode();
  const decoded = huffmanDecode(new BitReader(encoded), lengths, n);
  if (!decoded.every((s, i) => s === symbols[i])) throw new Error('bench: Huffman round trip failed');
  const entropy = -Array.from(freqs).reduce((a, f) => a + (f > 0 ? (f / n) * Math.log2(f / n) : 0), 0);
  const note = `${n.toLocaleString('en-US')} symbols: entropy ${entropy.toFixed(3)} bits, Huffman ${((encoded.length * 8) / n).toFixed(3)} bits/symbol`;

  const rows: [string, () => ArrayLike<number>][] = [
    ['Uint16Array copy (baseline)', () => symbols.slice()],
    ['histogram + code lengths', () => {
      const f = new Float64Array(ALPHABET);
      for (let i = 0; i < n; i++) f[symbols[i]]++;
      return huffmanCodeLengths(f);
    }],
    ['huffman encode', encode],
    ['huffman decode', () => huffmanDecode(new BitReader(encoded), lengths, n)],
  ];
  let copyMs = 0;
  return {
    note,
    rows: rows.map(([label, fn]) => {
      const ms = time(fn);
      if (label.startsWith('Uint16Array copy')) copyMs = ms;
      return [label, n.toLocaleString('en-US'), ms.toFixed(2), (n / ms / 1e3).toFixed(0), `${(ms / copyMs).toFixed(1)}×`];
    }),
  };
}

function table(rows: string[][]): string {
  const head = ['operation', 'symbols', 'ms (median)', 'Msymbols/s', '× copy'];
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const cpus = os.cpus();
console.log(`cpu: ${cpus[0]?.model ?? 'unknown'} (${cpus.length} cpus), node ${process.version}`);
console.log(`median of ${RUNS} runs after ${WARMUP} warm-up runs; × copy = time / Uint16Array.prototype.slice of the same symbols`);
const rows: string[][] = [];
for (const n of SIZES) {
  const r = bench(n);
  console.log(r.note);
  rows.push(...r.rows);
}
console.log(`\n${table(rows)}`);
if (Number.isNaN(sink)) console.log('');
