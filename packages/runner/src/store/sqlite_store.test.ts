import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { SqliteStore } from './sqlite_store.js';
import { tempDir } from '../__tests__/fixtures.js';

function newRun(store: SqliteStore, exp: number, trialId = 't1') {
  return store.createRun({ experimentId: exp, trialId, sweep: 's', label: 'l', isBaseline: false, seed: 1, backend: 'cpu', config: { a: 1 } });
}

describe('SqliteStore', () => {
  it('migrates a new file, records the migration and uses WAL', () => {
    const path = join(tempDir(), 'nested', 'db.sqlite');
    const store = SqliteStore.open(path);
    store.close();
    const db = new Database(path, { readonly: true });
    expect((db.prepare('SELECT name FROM _squash_migrations').all() as Array<{ name: string }>).map((r) => r.name)).toEqual(['0001_initial', '0002_artifacts', '0003_sweeps_attempts_heartbeats', '0004_query_indexes']);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    SqliteStore.open(path).close(); // reopening applies nothing twice
  });

  it('refuses a database from a newer Squash', () => {
    const path = join(tempDir(), 'db.sqlite');
    SqliteStore.open(path).close();
    const db = new Database(path);
    db.prepare("INSERT INTO _squash_migrations VALUES ('9999_future', 'x')").run();
    db.close();
    expect(() => SqliteStore.open(path)).toThrow(/newer Squash.*9999_future/);
  });

  it('stores typed params and compares numbers as numbers', () => {
    const store = SqliteStore.open(join(tempDir(), 'db.sqlite'));
    const exp = store.ensureExperiment('e', '');
    expect(store.ensureExperiment('e', 'again')).toBe(exp);
    const a = newRun(store, exp, 'a');
    const b = newRun(store, exp, 'b');
    store.logBatch(a, { params: { bits: 8, scheme: 'sym', perChannel: true } });
    store.logBatch(b, { params: { bits: 10 } });
    const bigger = store.db.prepare("SELECT run_id FROM params WHERE key = 'bits' AND value_num > 9").all() as Array<{ run_id: string }>;
    expect(bigger.map((r) => r.run_id)).toEqual([b]);
    const runs = store.listRuns('e');
    expect(runs.find((r) => r.id === a)!.params).toEqual({ bits: 8, scheme: 'sym', perChannel: true });
    store.close();
  });

  it('finishes a run atomically and reports it as the trial\'s latest', () => {
    const store = SqliteStore.open(join(tempDir(), 'db.sqlite'));
    const exp = store.ensureExperiment('e', '');
    const run = newRun(store, exp);
    expect(store.latestByTrial('e').get('t1')?.status).toBe('RUNNING');
    expect(() => store.finishRun(run, { metrics: [{ key: 'accuracy', value: 0.9 }, { key: 'bad', value: NaN as unknown as number }] })).toThrow();
    // The failed batch left nothing behind: no metric, still RUNNING.
    expect(store.listRuns('e')[0]!.metrics).toEqual({});
    expect(store.listRuns('e')[0]!.status).toBe('RUNNING');
    store.finishRun(run, { metrics: [{ key: 'accuracy', value: 0.9 }, { key: 'train_loss', value: 1, step: 1 }] });
    expect(store.latestByTrial('e').get('t1')).toEqual({ status: 'FINISHED', attempt: 1, runId: run });
    const view = store.listRuns('e')[0]!;
    expect(view.status).toBe('FINISHED');
    expect(view.metrics).toEqual({ accuracy: 0.9 });
    expect(view.endedAt).not.toBeNull();
    store.close();
  });

  it('opens read-only and refuses a missing file', () => {
    expect(() => SqliteStore.openReadOnly(join(tempDir(), 'none.db'))).toThrow(/cannot open database/);
  });
});
