/**
 * Throughput of Huffman coding (`node packages/compressors/dist/bench-encoding.js`), reported next
 * to a plain Uint16Array copy of the same symbols in the same run — as in bench.ts, "× copy" is
 * comparable across machines where milliseconds are not.
 *
 * Symbols come from a skewed 32-symbol distribution like 5-bit k-means codes of trained weights
 * (most weights in the few clusters near zero): |N(0, 1)|·6, clamped to 31.
 */
import { machineLine, ratioRows, reexecWithFixedAllocator, sink, table } from './bench_harness.js';
import { createRng } from '@squash/core';
import { BitReader, BitWriter } from './encoding/bitstream.js';
import { huffmanCodeLengths, huffmanDecode, huffmanEncode } from './encoding/huffman.js';

const RUNS = 7;
const WARMUP = 20;
/** LeNet-300-100's weight count, and a mid-sized CNN's. */
const SIZES = [266_200, 4_000_000];
const ALPHABET = 32;

reexecWithFixedAllocator(import.meta.url);

/**
 * Timing: the median of RUNS after WARMUP untimed runs (V8 needs ~10 calls to tier the coders
 * up), with a GC before each run (bench_harness.ts). That GC is also a test of the coders: it
 * collects every BitWriter/BitReader, and code that touched their properties in its hot loop got
 * deoptimized each time (see packSymbols in bitstream.ts). A cold first call in a fresh process —
 * decoding one layer once — is slower: decoding ran at ~17 (266k) and ~32 (4M) Msymbols/s on a
 * machine where it ran at ~95 warm, as V8 starts in the interpreter and switches mid-loop.
 */
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
    [
      'histogram + code lengths',
      () => {
        const f = new Float64Array(ALPHABET);
        for (let i = 0; i < n; i++) f[symbols[i]]++;
        return huffmanCodeLengths(f);
      },
    ],
    ['huffman encode', encode],
    ['huffman decode', () => huffmanDecode(new BitReader(encoded), lengths, n)],
  ];
  return { note, rows: ratioRows(n, rows, RUNS, WARMUP) };
}

console.log(machineLine());
console.log('backend: none (pure TypeScript over typed arrays)');
console.log(
  `median of ${RUNS} runs after ${WARMUP} warm-up runs; × copy = time / Uint16Array.prototype.slice of the same symbols`,
);
const rows: string[][] = [];
for (const n of SIZES) {
  const r = bench(n);
  console.log(r.note);
  rows.push(...r.rows);
}
console.log(`\n${table(['operation', 'symbols', 'ms (median)', 'Msymbols/s', '× copy'], rows)}`);
if (Number.isNaN(sink)) console.log('');
