import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { StoreError } from '@squash/core';
import { SqliteStore } from './sqlite_store.js';
import { applyMigrations, MIGRATIONS, type Migration } from './migrations.js';
import { buildViews } from './run_view.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const tempDir = () => mkdtempSync(join(tmpdir(), 'squash-store-'));

/** A second, plain connection on the file: what tests use to look at (or tamper with) the tables. */
function raw<T>(path: string, fn: (db: Database.Database) => T, readonly = false): T {
  const db = new Database(path, { readonly });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function newRun(store: SqliteStore, exp: number, trialId = 't1') {
  return store.createRun({
    experimentId: exp,
    trialId,
    sweep: 's',
    label: 'l',
    isBaseline: false,
    seed: 1,
    backend: 'cpu',
    config: { a: 1 },
  });
}

describe('SqliteStore', () => {
  it('migrates a new file, records the migration and uses WAL', () => {
    const path = join(tempDir(), 'nested', 'db.sqlite');
    const store = SqliteStore.open(path);
    store.close();
    const db = new Database(path, { readonly: true });
    expect(
      (db.prepare('SELECT name FROM _squash_migrations').all() as Array<{ name: string }>).map((r) => r.name),
    ).toEqual([
      '0001_initial',
      '0002_artifacts',
      '0003_sweeps_attempts_heartbeats',
      '0004_query_indexes',
      '0005_run_views',
      '0006_artifact_checksums',
    ]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const records = db.prepare('SELECT name, applied_at FROM _squash_migrations ORDER BY name').all();
    db.close();
    SqliteStore.open(path).close();
    // Reopening applied nothing again: the same records, written at the same times.
    expect(raw(path, (d) => d.prepare('SELECT name, applied_at FROM _squash_migrations ORDER BY name').all())).toEqual(
      records,
    );
  });

  it('applies each pending migration exactly once, and only the pending ones', () => {
    const ran: string[] = [];
    const step = (name: string, sql: string): Migration => ({ name, up: (db) => (ran.push(name), db.exec(sql)) });
    const db = new Database(join(tempDir(), 'db.sqlite'));
    const first = [step('0001_a', 'CREATE TABLE a (x)'), step('0002_b', 'CREATE TABLE b (x)')];
    applyMigrations(db, first);
    applyMigrations(db, first);
    expect(ran).toEqual(['0001_a', '0002_b']);
    applyMigrations(db, [...first, step('0003_c', 'CREATE TABLE c (x)')]);
    expect(ran).toEqual(['0001_a', '0002_b', '0003_c']);
    expect(db.prepare('SELECT COUNT(*) FROM _squash_migrations').pluck().get()).toBe(3);
    db.close();
  });

  it('applies pending migrations all together or not at all', () => {
    const db = new Database(join(tempDir(), 'db.sqlite'));
    const broken: Migration[] = [
      { name: '0001_a', up: (d) => d.exec('CREATE TABLE a (x)') },
      { name: '0002_bad', up: (d) => d.exec('CREATE TABLE a (y)') },
    ];
    expect(() => applyMigrations(db, broken)).toThrow(/table a already exists/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name IN ('a', '_squash_migrations')").all()).toEqual([]);
    db.close();
  });

  it('refuses a database from a newer Squash, to writers and readers', () => {
    const path = join(tempDir(), 'db.sqlite');
    SqliteStore.open(path).close();
    raw(path, (db) => db.prepare("INSERT INTO _squash_migrations VALUES ('9999_future', 'x')").run());
    expect(() => SqliteStore.open(path)).toThrow(/newer Squash.*9999_future/);
    expect(() => SqliteStore.openReadOnly(path)).toThrow(StoreError);
    expect(() => SqliteStore.openReadOnly(path)).toThrow(/newer Squash \(migrations 9999_future\); upgrade Squash/);
  });

  it('stores typed params and compares numbers as numbers', () => {
    const store = SqliteStore.open(join(tempDir(), 'db.sqlite'));
    const exp = store.ensureExperiment('e', '');
    expect(store.ensureExperiment('e', 'again')).toBe(exp);
    const a = newRun(store, exp, 'a');
    const b = newRun(store, exp, 'b');
    store.logBatch(a, { params: { bits: 8, scheme: 'sym', perChannel: true } });
    store.logBatch(b, { params: { bits: 10 } });
    const bigger = raw(
      store.path,
      (db) => db.prepare("SELECT run_id FROM params WHERE key = 'bits' AND value_num > 9").pluck().all(),
      true,
    );
    expect(bigger).toEqual([b]);
    const runs = store.listRuns('e');
    expect(runs.find((r) => r.id === a)!.params).toEqual({ bits: 8, scheme: 'sym', perChannel: true });
    store.close();
  });

  it("finishes a run atomically and reports it as the trial's latest", () => {
    const store = SqliteStore.open(join(tempDir(), 'db.sqlite'));
    const exp = store.ensureExperiment('e', '');
    const run = newRun(store, exp);
    expect(store.latestByTrial('e').get('t1')?.status).toBe('RUNNING');
    expect(() =>
      store.finishRun(run, {
        metrics: [
          { key: 'accuracy', value: 0.9 },
          { key: 'bad', value: NaN as unknown as number },
        ],
      }),
    ).toThrow();
    // The failed batch left nothing behind: no metric, still RUNNING.
    expect(store.listRuns('e')[0]!.metrics).toEqual({});
    expect(store.listRuns('e')[0]!.status).toBe('RUNNING');
    store.finishRun(run, {
      metrics: [
        { key: 'accuracy', value: 0.9 },
        { key: 'train_loss', value: 1, step: 1 },
      ],
    });
    expect(store.latestByTrial('e').get('t1')).toEqual({ status: 'FINISHED', attempt: 1, runId: run });
    const view = store.listRuns('e')[0]!;
    expect(view.status).toBe('FINISHED');
    expect(view.metrics).toEqual({ accuracy: 0.9 });
    expect(view.endedAt).not.toBeNull();
    store.close();
  });

  it('keeps every run view equal to the tables through every kind of write', () => {
    const store = SqliteStore.open(join(tempDir(), 'db.sqlite'));
    const exp = store.ensureExperiment('e', '');
    const byId = <T extends { id: string }>(views: T[]) => new Map(views.map((v) => [v.id, v]));
    const fromTables = () => raw(store.path, (db) => buildViews(db, '1', []), true);
    const stored = () => byId(store.listRuns('e').map(({ experiment, ...v }) => (expect(experiment).toBe('e'), v)));
    const a = newRun(store, exp, 'a');
    expect(stored()).toEqual(fromTables());
    store.logBatch(a, {
      params: { bits: 8, scheme: 'sym', on: false },
      metrics: [
        { key: 'accuracy', value: 0.1 + 0.2 },
        { key: 'curve', value: 1, step: 3 },
      ],
    });
    expect(stored()).toEqual(fromTables());
    store.setTags(a, { owner: 'ann' });
    store.logArtifact(a, { kind: 'model', path: '/x.sqz', bytes: 123 });
    expect(stored()).toEqual(fromTables());
    store.setStatus(a, 'FAILED', 'boom');
    const claim = store.claimRun(
      { experimentId: exp, trialId: 'b', sweep: 's', label: 'b', isBaseline: true, seed: 2, config: {} },
      { host: 'h', pid: process.pid, invocation: 'i1', backend: 'wasm', version: '9.9.9' },
    );
    if (!claim.claimed) throw new Error('not claimed');
    store.finishRun(claim.runId, {
      metrics: [{ key: 'accuracy', value: 0.97 }],
      artifacts: [{ kind: 'model', path: '/b.sqz', bytes: 9 }],
    });
    expect(stored()).toEqual(fromTables());
    const [base, first] = store.listRuns('e');
    // Baselines first; doubles round-trip exactly; attempt and version are part of the view.
    expect(base).toMatchObject({
      id: claim.runId,
      isBaseline: true,
      attempt: 1,
      squashVersion: '9.9.9',
      status: 'FINISHED',
      metrics: { accuracy: 0.97 },
    });
    expect(first).toMatchObject({
      id: a,
      status: 'FAILED',
      error: 'boom',
      params: { bits: 8, scheme: 'sym', on: false },
      metrics: { accuracy: 0.30000000000000004 },
      tags: { owner: 'ann' },
      artifacts: { model: { path: '/x.sqz', bytes: 123 } },
    });
    const heads = store.listRunHeads('e', ['accuracy', 'absent']);
    expect(heads.length).toBe(2);
    expect(heads.trialIds).toEqual(['b', 'a']); // baselines first
    expect([...heads.isBaseline]).toEqual([1, 0]);
    expect([...heads.finished]).toEqual([1, 0]);
    expect([...heads.seeds]).toEqual([2, 1]);
    expect([...heads.metrics.accuracy!]).toEqual([0.97, 0.30000000000000004]);
    expect([...heads.metrics.absent!]).toEqual([NaN, NaN]);
    // Heads fetch their full views by rowid, in the order asked.
    expect(store.runsByRowid([heads.rowids[1]!, heads.rowids[0]!]).map((v) => v.id)).toEqual([a, claim.runId]);
    expect(store.experimentBackends('e')).toEqual(['cpu', 'wasm']);
    store.close();
  });

  it('reads metric keys with dots and slashes in run heads', () => {
    const store = SqliteStore.open(join(tempDir(), 'db.sqlite'));
    const run = newRun(store, store.ensureExperiment('e', ''));
    store.logBatch(run, {
      metrics: [
        { key: 'layer.dense_1/kernel.kept', value: 7 },
        { key: 'a"b', value: 8 },
      ],
    });
    const heads = store.listRunHeads('e', ['layer.dense_1/kernel.kept', 'a"b']);
    expect([heads.metrics['layer.dense_1/kernel.kept']![0], heads.metrics['a"b']![0]]).toEqual([7, 8]);
    store.close();
  });

  it('never migrates on read: an older file names the command that upgrades it', () => {
    const path = join(tempDir(), 'old.sqlite');
    const store = SqliteStore.open(path);
    const run = newRun(store, store.ensureExperiment('old', ''));
    store.logBatch(run, { params: { bits: 4 }, metrics: [{ key: 'accuracy', value: 0.5 }] });
    store.close();
    // Make it an older file: drop what 0005 and 0006 added and their records.
    raw(path, (db) =>
      db.exec(
        `DROP INDEX runs_by_experiment; ALTER TABLE runs DROP COLUMN view_json; ALTER TABLE artifacts DROP COLUMN sha256;
         DELETE FROM _squash_migrations WHERE name IN ('0005_run_views', '0006_artifact_checksums')`,
      ),
    );
    const before = raw(path, (db) => db.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all());
    let err: unknown;
    try {
      SqliteStore.openReadOnly(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).exitCode).toBe(2);
    expect((err as StoreError).describe()).toBe(
      `${path}: written by an older Squash (pending migrations 0005_run_views, 0006_artifact_checksums); run \`squash upgrade --db ${path}\` to upgrade it`,
    );
    // The reader wrote nothing.
    expect(raw(path, (db) => db.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all())).toEqual(before);
    // Opening for writing (what `squash upgrade` does) upgrades it; then it reads as before.
    SqliteStore.open(path).close();
    const reader = SqliteStore.openReadOnly(path);
    expect(reader.listRuns('old')[0]).toMatchObject({ id: run, params: { bits: 4 }, metrics: { accuracy: 0.5 } });
    reader.close();
    expect(MIGRATIONS.at(-1)!.name).toBe('0006_artifact_checksums');
  });

  it('0006 adds a checksum to artifacts: earlier rows keep none and read as before, new ones carry it', () => {
    const path = join(tempDir(), 'before-0006.sqlite');
    const old = SqliteStore.open(path);
    const exp = old.ensureExperiment('e', '');
    const before = newRun(old, exp);
    old.finishRun(before, {
      metrics: [{ key: 'accuracy', value: 0.9 }],
      artifacts: [{ kind: 'model', path: 'a.sqz', bytes: 10 }],
    });
    const viewBefore = old.getRun(before);
    old.close();
    // The file as Squash before 0006 wrote it: no checksum column, no record.
    raw(path, (d) =>
      d.exec(
        "ALTER TABLE artifacts DROP COLUMN sha256; DELETE FROM _squash_migrations WHERE name = '0006_artifact_checksums'",
      ),
    );
    expect(() => SqliteStore.openReadOnly(path)).toThrow(/pending migrations 0006_artifact_checksums/);

    const store = SqliteStore.open(path);
    expect(raw(path, (d) => d.prepare('SELECT sha256 FROM artifacts').pluck().all())).toEqual([null]);
    expect(store.getRun(before)).toEqual(viewBefore);
    expect(store.getRun(before).artifacts.model).toEqual({ path: 'a.sqz', bytes: 10 });
    const after = newRun(store, exp, 't2');
    const sha256 = 'ab'.repeat(32);
    store.finishRun(after, { artifacts: [{ kind: 'model', path: 'b.sqz', bytes: 11, sha256 }] });
    expect(store.getRun(after).artifacts.model).toEqual({ path: 'b.sqz', bytes: 11, sha256 });
    store.close();
    // The stored view and the tables agree (what doctor rebuilds from).
    expect(raw(path, (d) => buildViews(d, 'r.id = ?', [after]).get(after)!.artifacts)).toEqual({
      model: { path: 'b.sqz', bytes: 11, sha256 },
    });
  });

  it("reads a run's recorded configuration and the experiment file of its sweep", () => {
    const store = SqliteStore.open(join(tempDir(), 'db.sqlite'));
    const exp = store.ensureExperiment('e', '');
    const sweepId = store.recordSweep(exp, 'name: e', 'experiments/e.yaml');
    const run = store.createRun({
      experimentId: exp,
      trialId: 't',
      sweep: 's',
      label: 'l',
      isBaseline: false,
      seed: 1,
      backend: 'cpu',
      config: { baseline: { dataset: { name: 'mnist' } } },
      sweepId,
    });
    expect(store.runConfig(run)).toEqual({
      config: { baseline: { dataset: { name: 'mnist' } } },
      experimentFile: 'experiments/e.yaml',
    });
    expect(store.runConfig(newRun(store, exp, 't2')).experimentFile).toBeNull();
    expect(() => store.runConfig('nope')).toThrow(/no run with id 'nope'/);
    store.close();
  });

  it('refuses to read a SQLite file that is not a Squash database', () => {
    const path = join(tempDir(), 'other.sqlite');
    const db = new Database(path);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expect(() => SqliteStore.openReadOnly(path)).toThrow(/not a Squash database/);
  });

  it('opens read-only and refuses a missing file', () => {
    expect(() => SqliteStore.openReadOnly(join(tempDir(), 'none.db'))).toThrow(/cannot open database/);
  });
});
