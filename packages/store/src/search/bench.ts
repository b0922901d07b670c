/**
 * Query benchmark: builds a temporary database of 100,000 runs (6 params, 6 final metrics, 1 tag
 * each), then times representative `squash query` filters (median of 5) on a read-only store,
 * first without the query indexes, then with them. Run: node dist/search/bench.js
 */
import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { layerMetricKey, LayerField, Metric } from '@squash/contract';
import { createRng } from '@squash/core';
import { openDatabase, withTransaction } from '../db.js';
import { refreshViews } from '../run_view.js';
import { SqliteStore } from '../sqlite_store.js';
import type { SearchOptions } from './search.js';

const RUNS = Number(process.env.SQUASH_BENCH_RUNS ?? 100_000);
const REPEATS = 5;

/**
 * Covering indexes that let filters seek instead of scanning (the store's migration
 * 0004_query_indexes creates them). The bench measures with and without them.
 */
export const RECOMMENDED_INDEXES = [
  'CREATE INDEX IF NOT EXISTS metrics_by_key_value ON metrics(key, step, value, run_id)',
  'CREATE INDEX IF NOT EXISTS params_by_num ON params(key, type, value_num, run_id)',
  'CREATE INDEX IF NOT EXISTS params_by_text ON params(key, type, value_text, run_id)',
  'CREATE INDEX IF NOT EXISTS tags_by_key_value ON tags(key, value, run_id)',
];
const indexNames = () => RECOMMENDED_INDEXES.map((sql) => /EXISTS (\w+)/.exec(sql)![1]!);

/** Drops the query indexes (so a database can be measured or checked without them). */
export function dropQueryIndexes(db: Pick<Database.Database, 'exec'>): void {
  for (const name of indexNames()) db.exec(`DROP INDEX IF EXISTS ${name}`);
}

const QUERIES: Array<[string, SearchOptions]> = [
  ['metrics.accuracy > 0.975 and params.bits in (4, 8)', {}],
  ["params.scheme = 'asym' and tags.owner like 'al%' or attributes.status = 'FAILED'", {}],
  ['not params.perChannel = true and metrics.compression_ratio between 3.9 and 4.1', {}],
  ['params.bits > 4', { orderBy: 'metrics.accuracy desc', limit: 20 }],
  [
    "params.model = 'mlp-7' and (tags.owner is null or params.lr < 1e-4)",
    { experiment: 'exp-2', orderBy: 'params.lr' },
  ],
];

/**
 * Fills a new database at `path` with `runs` synthetic runs, directly in SQL (the store's methods
 * would take a transaction and a view refresh per write), in one transaction; the query indexes
 * are left out (bulk-load first, index after: the caller decides).
 */
export function buildBenchDb(path: string, runs = RUNS, experiments = 4): void {
  SqliteStore.open(path).close();
  const db = openDatabase(path, { readonly: false });
  dropQueryIndexes(db);
  const rng = createRng(42);
  const STATUSES = [
    'FINISHED',
    'FINISHED',
    'FINISHED',
    'FINISHED',
    'FINISHED',
    'FINISHED',
    'FINISHED',
    'FAILED',
    'KILLED',
    'RUNNING',
  ];
  const OWNERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
  const t = new Date().toISOString();
  withTransaction(db, () => {
    const exps = Array.from({ length: experiments }, (_, i) =>
      Number(db.prepare('INSERT INTO experiments (name, created_at) VALUES (?, ?)').run(`exp-${i}`, t).lastInsertRowid),
    );
    const run =
      db.prepare(`INSERT INTO runs (id, experiment_id, trial_id, sweep, label, is_baseline, status, seed, backend, config_json, started_at, ended_at)
                            VALUES (?, ?, ?, ?, ?, 0, ?, ?, 'cpu', '{}', ?, ?)`);
    const param = db.prepare('INSERT INTO params (run_id, key, type, value_num, value_text) VALUES (?, ?, ?, ?, ?)');
    const metric = db.prepare('INSERT INTO metrics (run_id, key, value, step, time) VALUES (?, ?, ?, 0, ?)');
    const tag = db.prepare('INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)');
    for (let i = 0; i < runs; i++) {
      const id = i.toString(16).padStart(32, '0');
      const bits = [2, 4, 8, 16][rng.int(4)]!;
      const status = STATUSES[rng.int(STATUSES.length)]!;
      run.run(
        id,
        exps[i % experiments],
        `t${i}`,
        ['bits', 'prune', 'mixed'][i % 3],
        `trial-${i}`,
        status,
        rng.int(10),
        t,
        status === 'RUNNING' ? null : t,
      );
      param.run(id, 'bits', 'number', bits, null);
      param.run(id, 'scheme', 'string', null, rng.next() < 0.5 ? 'sym' : 'asym');
      param.run(id, 'perChannel', 'boolean', rng.next() < 0.5 ? 1 : 0, null);
      param.run(id, 'lr', 'number', 10 ** -(2 + rng.next() * 3), null);
      param.run(id, 'prune.retention', 'number', rng.next(), null);
      param.run(id, 'model', 'string', null, `mlp-${rng.int(10)}`);
      const acc = 0.9 + rng.next() * 0.08;
      for (const [k, v] of [
        [Metric.accuracy, acc],
        [Metric.accuracyDelta, acc - 0.978],
        [Metric.loss, rng.next()],
        [Metric.compressionRatio, 32 / bits + rng.next() * 0.2 - 0.1],
        [Metric.artifactBytes, 400_000 / (32 / bits)],
        [layerMetricKey('dense_1/kernel', LayerField.kept), rng.next()],
      ] as const)
        metric.run(id, k, v, t);
      if (rng.next() < 0.8) tag.run(id, 'owner', OWNERS[rng.int(OWNERS.length)]!);
    }
    refreshViews(db, '1', []);
  });
  db.close();
}

function time(path: string): Array<{ ms: number; rows: number }> {
  const store = SqliteStore.openReadOnly(path);
  try {
    return QUERIES.map(([filter, opts]) => {
      const samples: number[] = [];
      let rows = 0;
      for (let r = 0; r < REPEATS; r++) {
        const t0 = performance.now();
        rows = store.searchRuns(filter, opts).rows.length;
        samples.push(performance.now() - t0);
      }
      samples.sort((a, b) => a - b);
      return { ms: samples[Math.floor(REPEATS / 2)]!, rows };
    });
  } finally {
    store.close();
  }
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'squash-query-bench-'));
  try {
    const path = join(dir, 'bench.db');
    const cpu = cpus();
    console.log(`machine: ${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} cpus, Node ${process.version}`);
    const t0 = performance.now();
    buildBenchDb(path);
    console.log(
      `database: ${RUNS} runs × (6 params, 6 metrics, ~0.8 tag), built in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    const before = time(path);
    const db = openDatabase(path, { readonly: false });
    for (const sql of RECOMMENDED_INDEXES) db.exec(sql);
    db.close();
    const after = time(path);
    console.log(`median of ${REPEATS}, ms  without idx  with 0004 idx   rows   query`);
    QUERIES.forEach(([filter, opts], i) => {
      const extra = Object.entries(opts)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      console.log(
        `${''.padEnd(15)}${before[i]!.ms.toFixed(1).padStart(12)}${after[i]!.ms.toFixed(1).padStart(14)}${String(after[i]!.rows).padStart(8)}   ${filter}${extra ? `  [${extra}]` : ''}`,
      );
    });
    console.log(`\nindexes (migration 0004_query_indexes):\n  ${RECOMMENDED_INDEXES.join(';\n  ')};`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('bench.js')) main();
