/**
 * End-to-end benchmark of the read commands over 100,000 stored runs: each line is the median wall
 * time of whole `squash` processes (start-up included), beside `node -e ''` as the floor. Two
 * databases: 100,000 runs in one experiment, and 4 experiments of 25,000. Run: node dist/bench_report.js
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildBenchDb } from '@squash/store/bench';

const RUNS = Number(process.env.SQUASH_BENCH_RUNS ?? 100_000);
const REPEATS = 5;
const BIN = join(dirname(fileURLToPath(import.meta.url)), 'bin.js');

function median(args: string[]): { ms: number; bytes: number } {
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    bytes = execFileSync(process.execPath, args, { maxBuffer: 1 << 30 }).length;
    samples.push(performance.now() - t0);
  }
  return { ms: samples.sort((a, b) => a - b)[REPEATS >> 1]!, bytes };
}

function main(): void {
  const cpu = cpus();
  // Read commands never load TensorFlow.js, so no tensor backend is involved.
  console.log(
    `machine: ${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} cpus, Node ${process.version}; backend: none (SQLite + JS only)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'squash-report-bench-'));
  try {
    const floor = median(['-e', '']).ms;
    console.log(`floor: node -e '' ${floor.toFixed(0)} ms (median of ${REPEATS})\n`);
    console.log('median ms   × floor   output bytes   command');
    for (const experiments of [1, 4]) {
      const db = join(dir, `runs-${experiments}.db`);
      buildBenchDb(db, RUNS, experiments);
      console.log(`-- ${RUNS} runs in ${experiments} experiment(s)`);
      const cases: string[][] = [
        ['report', 'exp-0'],
        ['report', 'exp-0', '--format', 'markdown', '--limit', '1000'],
        ['report', 'exp-0', '--format', 'csv'],
        ['query', 'metrics.accuracy > 0.975 and params.bits in (4, 8)', '--limit', '100'],
        ['query', "params.scheme = 'asym' and tags.owner like 'al%' or attributes.status = 'FAILED'", '--limit', '100'],
        ['ls'],
      ];
      for (const c of cases) {
        const { ms, bytes } = median([BIN, ...c, '--db', db]);
        console.log(
          `${ms.toFixed(0).padStart(9)}${(ms / floor).toFixed(1).padStart(10)}${String(bytes).padStart(15)}   squash ${c.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('bench_report.js')) main();
