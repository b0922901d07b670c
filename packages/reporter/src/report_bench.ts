/**
 * Reporter timings on 100,000 fake runs: `node dist/report_bench.js [runs]`. Median of 3 timed
 * repetitions after one warm-up. The HTML page stays bounded: the accuracy-vs-size scatter draws
 * at most 2,000 points (every Pareto-front run plus an even stride of the rest), the per-param
 * plots draw means per x value, and the table prints at most 1,000 rows (front rows first).
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { comparisonTable, paretoPoints, reportTable } from './comparison.js';
import { fakeRuns } from './fake_runs.js';
import { renderHtml } from './html.js';
import { paretoFront } from './pareto.js';
import { renderCsv, renderJson } from './render.js';

const n = Number(process.argv[2] ?? 100_000);
const t0 = performance.now();
const runs = fakeRuns({ total: n });
const buildMs = performance.now() - t0;

function time<T>(f: () => T): { ms: number; out: T } {
  f();
  const samples: number[] = [];
  let out!: T;
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    out = f();
    samples.push(performance.now() - s);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[1]!, out };
}

const table = comparisonTable('bench', runs);
const rows: Array<[string, number, string]> = [];
const add = (name: string, r: { ms: number; out: unknown }, detail: (o: never) => string) =>
  rows.push([name, r.ms, detail(r.out as never)]);
add(
  'comparisonTable',
  time(() => comparisonTable('bench', runs)),
  (t: typeof table) => `${t.rows.length} rows`,
);
add(
  'reportTable (pareto + hide constant)',
  time(() => reportTable('bench', runs)),
  (t: typeof table) => `${t.columns.length} columns`,
);
add(
  'paretoFront',
  time(() => paretoFront(paretoPoints(runs))),
  (s: Set<string>) => `${s.size} on the front`,
);
add(
  'renderCsv',
  time(() => renderCsv(table)),
  (s: string) => `${(s.length / 1e6).toFixed(1)} MB`,
);
add(
  'renderJson',
  time(() => renderJson(table)),
  (s: string) => `${(s.length / 1e6).toFixed(1)} MB`,
);
add(
  'renderHtml (whole page)',
  time(() => renderHtml('bench', runs)),
  (s: string) => `${(s.length / 1e6).toFixed(2)} MB`,
);

const cpu = cpus();
console.log(
  `reporter bench: ${runs.length.toLocaleString('en')} runs (built in ${buildMs.toFixed(0)} ms), median of 3`,
);
console.log(`${cpu[0]?.model ?? 'unknown cpu'} × ${cpu.length}, Node ${process.version}`);
for (const [name, ms, detail] of rows)
  console.log(`  ${name.padEnd(38)} ${ms.toFixed(1).padStart(8)} ms  ${ms < 1000 ? 'ok ' : 'SLOW'}  ${detail}`);
