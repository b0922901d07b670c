import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@squash/core';
import { SqliteStore } from '../sqlite_store.js';
import { dropQueryIndexes } from './bench.js';
import { parseFilter } from './parse.js';
import { toSql } from './sql.js';

// The store's half of the search: SQL built from the AST. Its results on a larger fixture, and
// their agreement with in-memory matching, are checked in the reporter (query/*.test.ts).

/** A small database written through the store's methods: 12 runs over two experiments. */
function smallDb(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'squash-search-')), 'runs.db');
  const store = SqliteStore.open(path);
  for (const [e, name] of ['a', 'b'].entries()) {
    const exp = store.ensureExperiment(name, '');
    for (let i = 0; i < 6; i++) {
      const id = store.createRun({
        experimentId: exp,
        trialId: `${name}${i}`,
        sweep: i < 3 ? 'bits' : 'prune',
        label: `${name}-${i}`,
        isBaseline: i === 0,
        seed: i,
        backend: 'cpu',
        config: {},
      });
      store.finishRun(id, {
        params: i < 3 ? { bits: 2 ** (i + 1), scheme: i % 2 ? 'sym' : 'asym' } : { retention: i / 10, on: i > 4 },
        metrics: [
          { key: 'acc', value: 0.9 + i / 100 + e / 1000 },
          { key: 'curve', value: i, step: 1 },
        ],
        tags: i % 2 ? { owner: 'ann' } : {},
      });
    }
  }
  store.close();
  return path;
}

const FILTERS = [
  '',
  'params.bits > 2',
  "params.bits in (2, 8, 'x')",
  'params.bits != 4',
  "params.scheme like 'a%' or params.on = true",
  'not params.retention between 0.35 and 0.45',
  'metrics.acc >= 0.93 and attributes.is_baseline = false',
  'metrics.curve is not null',
  'tags.owner is null',
  "tags.owner ilike 'AN%'",
  "attributes.experiment = 'b' and attributes.seed < 3",
];

describe('searchRuns', () => {
  it('selects the same runs with and without the query indexes', () => {
    const path = smallDb();
    const ids = (f: string) => {
      const store = SqliteStore.openReadOnly(path);
      try {
        return store.searchRuns(f, { columns: ['run_id'] }).rows.map((r) => r.run_id);
      } finally {
        store.close();
      }
    };
    const indexed = FILTERS.map(ids);
    expect(indexed.map((r) => r.length)).toEqual([12, 4, 4, 4, 6, 10, 6, 0, 6, 6, 3]);
    const db = new Database(path);
    dropQueryIndexes(db);
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'metrics_by_key_value'").pluck().get()).toBe(0);
    db.close();
    expect(FILTERS.map(ids)).toEqual(indexed);
  });

  it('checks the experiment it is restricted to', () => {
    const store = SqliteStore.openReadOnly(smallDb());
    expect(store.searchRuns('', { experiment: 'b', columns: ['label'] }).rows).toHaveLength(6);
    expect(() => store.searchRuns('', { experiment: 'c' })).toThrow(ConfigError);
    store.close();
  });
});

describe('SQL from the AST', () => {
  const attempts = [
    "params.x = '1'' OR 1=1 --'",
    'tags.`a;DROP TABLE runs` is not null',
    "params.`x'; DROP TABLE runs; --` = 1",
    "params.`\"; DROP TABLE runs; --` like '%''); DROP TABLE runs; --'",
    "attributes.label in ('a''); DROP TABLE runs; --', \"\\\"); DELETE FROM runs; --\")",
  ];

  it('binds every key and value: no user text in the SQL', () => {
    for (const f of attempts) {
      const { sql, params } = toSql(parseFilter(f));
      expect(sql).not.toMatch(/DROP|DELETE|1=1|a;|x'/);
      expect(sql.split('?').length - 1).toBe(params.length);
    }
  });
});
