/**
 * What both benchmarks share: a fixed allocator state, medians after warm-up with a GC before each
 * timed run, rows reported as a ratio to a baseline row of the same run, and the machine line.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A fresh multi-megabyte buffer is either recycled memory or new pages that fault on first touch,
 * depending on glibc's adaptive mmap/trim thresholds and on when V8 last collected. In some
 * sandboxes a page fault costs ~10 µs, so a 16 MB copy takes 2 ms or 50 ms by luck. The benchmark
 * therefore re-runs itself with fixed thresholds (freed buffers stay in the heap and are reused;
 * no effect off glibc); call this first — in the parent it runs the child and exits.
 */
export function reexecWithFixedAllocator(moduleUrl: string): void {
  if (process.env.SQUASH_BENCH_CHILD === '1') return;
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(moduleUrl), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: {
      ...process.env,
      MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
      MALLOC_TRIM_THRESHOLD_: String(4 * 1024 * 1024 * 1024),
      SQUASH_BENCH_CHILD: '1',
    },
  });
  process.exit(r.status ?? 1);
}

let gcFn: (() => void) | undefined;
function gc(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Keeps results observable so V8 cannot drop the work that produced them. */
export let sink = 0;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median wall time over `runs` after `warmup` untimed runs (which let V8 optimize the loop). */
export function timeMedian(fn: () => ArrayLike<number> | void, runs: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) {
    const out = fn();
    if (out) sink += out.length;
  }
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    gc();
    const t0 = performance.now();
    const out = fn();
    ms.push(performance.now() - t0);
    if (out) sink += out[out.length >> 1] ?? 0;
  }
  return median(ms);
}

/** Times each row; the first row is the baseline every other row is reported against (× baseline). */
export function ratioRows(
  n: number,
  rows: Array<[string, () => ArrayLike<number> | void]>,
  runs: number,
  warmup: number,
): string[][] {
  let baselineMs = 0;
  return rows.map(([label, fn], i) => {
    const ms = timeMedian(fn, runs, warmup);
    if (i === 0) baselineMs = ms;
    return [
      label,
      n.toLocaleString('en-US'),
      ms.toFixed(2),
      (n / ms / 1e3).toFixed(0),
      `${(ms / baselineMs).toFixed(1)}×`,
    ];
  });
}

export function table(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function machineLine(): string {
  const cpus = os.cpus();
  return `cpu: ${cpus[0]?.model ?? 'unknown'} (${cpus.length} cpus), node ${process.version}`;
}
