/**
 * Reporter timings on 100,000 fake runs (SQUASH_BENCH_RUNS to change): `npm run bench` in
 * packages/reporter (vitest bench: 3 timed repetitions after one warm-up each). The HTML page stays
 * bounded: the accuracy-vs-size scatter draws at most 2,000 points (every Pareto-front run plus an
 * even stride of the rest), the per-param plots draw means per x value, and the table prints at
 * most 1,000 rows (front rows first). Each should take well under a second.
 */
import { bench, describe } from 'vitest';
import { comparisonTable, paretoPoints, reportTable } from '../comparison.js';
import { renderHtml } from '../html.js';
import { paretoFront } from '../pareto.js';
import { renderCsv, renderJson } from '../render.js';
import { fakeRuns } from './fake_runs.js';

const runs = fakeRuns({ total: Number(process.env.SQUASH_BENCH_RUNS ?? 100_000) });
const table = comparisonTable('bench', runs);
const options = { iterations: 3, time: 0, warmupIterations: 1, warmupTime: 0 };

describe(`reporter on ${runs.length.toLocaleString('en')} runs`, () => {
  bench('comparisonTable', () => void comparisonTable('bench', runs), options);
  bench('reportTable (pareto + hide constant)', () => void reportTable('bench', runs), options);
  bench('paretoFront', () => void paretoFront(paretoPoints(runs)), options);
  bench('renderCsv', () => void renderCsv(table), options);
  bench('renderJson', () => void renderJson(table), options);
  bench('renderHtml (whole page)', () => void renderHtml('bench', runs), options);
});
