import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError } from '@squash/core';
import { checkDatabase } from './doctor.js';
import { SqliteStore } from './sqlite_store.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'squash-doctor-'));
/** Linux pids stay below pid_max (at most 2^22): no process has this one. */
const DEAD_PID = 4_194_304;

function raw<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** A database with a finished run and one RUNNING run per worker given. */
function database(workers: Array<{ host: string; pid: number; staleSeconds?: number }>) {
  const path = join(tempDir(), 'squash.db');
  const store = SqliteStore.open(path);
  const exp = store.ensureExperiment('e', '');
  const done = store.createRun({
    experimentId: exp,
    trialId: 'done',
    sweep: 's',
    label: 'finished one',
    isBaseline: false,
    seed: 1,
    backend: 'cpu',
    config: {},
  });
  store.finishRun(done, { metrics: [{ key: 'accuracy', value: 0.9 }] });
  const running = workers.map((w, i) => {
    const claim = store.claimRun(
      { experimentId: exp, trialId: `t${i}`, sweep: 's', label: `trial ${i}`, isBaseline: false, seed: 1, config: {} },
      { ...w, invocation: `inv${i}`, backend: 'cpu', version: '0' },
    );
    if (!claim.claimed) throw new Error('not claimed');
    return claim.runId;
  });
  store.close();
  raw(path, (db) => {
    workers.forEach((w, i) => {
      if (w.staleSeconds)
        db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(
          new Date(Date.now() - w.staleSeconds * 1000).toISOString(),
          running[i],
        );
    });
  });
  return { path, done, running };
}

const statuses = (path: string) =>
  raw(path, (db) => db.prepare('SELECT status FROM runs ORDER BY rowid').pluck().all() as string[]);

describe('checkDatabase (squash doctor)', () => {
  it('finds nothing in a healthy database, and writes nothing', () => {
    const { path } = database([{ host: hostname(), pid: process.pid }]);
    const before = readFileSync(path);
    expect(checkDatabase(path)).toEqual([]);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('finds runs left RUNNING by a dead process (this host: its pid; elsewhere: a stale heartbeat); --repair marks them KILLED', () => {
    const { path, running } = database([
      { host: hostname(), pid: DEAD_PID },
      { host: hostname(), pid: process.pid },
      { host: 'elsewhere', pid: 1, staleSeconds: 3600 },
      { host: 'elsewhere', pid: 1 },
    ]);
    const found = checkDatabase(path);
    expect(found.map((f) => f.problem)).toEqual([
      `run ${running[0]} (e: trial 0) is RUNNING, but process ${DEAD_PID} on ${hostname()} stopped without finishing (no heartbeat since ${found[0]!.problem.match(/since (.*)\)$/)![1]})`,
      expect.stringMatching(new RegExp(`^run ${running[2]} \\(e: trial 2\\) is RUNNING, but process 1 on elsewhere`)),
    ]);
    expect(found.every((f) => f.repairable && !f.repaired)).toBe(true);
    expect(statuses(path)).toEqual(['FINISHED', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);

    const repaired = checkDatabase(path, { repair: true });
    expect(repaired.map((f) => f.repaired)).toEqual([expect.stringMatching(/^marked KILLED/), expect.any(String)]);
    expect(statuses(path)).toEqual(['FINISHED', 'KILLED', 'RUNNING', 'KILLED', 'RUNNING']);
    const reader = SqliteStore.openReadOnly(path);
    expect(reader.runsById([running[0]!])[0]!.error).toMatch(new RegExp(`process ${DEAD_PID} on .* stopped`));
    reader.close();
    expect(checkDatabase(path)).toEqual([]);
  });

  it('finds run records that do not read back, and rebuilds them from the tables', () => {
    const { path, done } = database([]);
    raw(path, (db) => db.prepare("UPDATE runs SET view_json = 'not json {' WHERE id = ?").run(done));
    const reader = SqliteStore.openReadOnly(path);
    expect(() => reader.listRuns('e')).toThrow(StoreError);
    reader.close();
    expect(checkDatabase(path)).toEqual([
      { problem: '1 run record(s) do not read back (damaged stored view)', repairable: true },
    ]);
    expect(checkDatabase(path, { repair: true })[0]!.repaired).toMatch(/^rebuilt/);
    const again = SqliteStore.openReadOnly(path);
    expect(again.listRuns('e')[0]).toMatchObject({ id: done, status: 'FINISHED', metrics: { accuracy: 0.9 } });
    again.close();
  });

  it('reports rows whose foreign keys point nowhere, and leaves them', () => {
    const { path } = database([]);
    raw(path, (db) => {
      db.pragma('foreign_keys = OFF');
      db.prepare("INSERT INTO tags (run_id, key, value) VALUES ('ghost', 'k', 'v')").run();
    });
    const found = checkDatabase(path, { repair: true });
    expect(found).toEqual([
      expect.objectContaining({ problem: '1 row(s) of tags refer to runs rows that do not exist', repairable: false }),
    ]);
    expect(found[0]!.action).toMatch(/restore a backup/);
  });

  it('reports a damaged file, another application database and another Squash schema, repairing none', () => {
    const dir = tempDir();
    const corrupt = database([]).path;
    const bytes = readFileSync(corrupt);
    bytes.fill(0xa5, bytes.readUInt16BE(16) * 2); // every page after the second
    writeFileSync(corrupt, bytes);
    const [damage] = checkDatabase(corrupt, { repair: true });
    expect(damage).toMatchObject({ repairable: false, action: expect.stringMatching(/restore a backup/) });
    expect(damage!.problem).toMatch(/malformed|damaged/);

    const text = join(dir, 'notes.db');
    writeFileSync(text, 'notes\n'.repeat(1000));
    expect(checkDatabase(text)).toEqual([
      expect.objectContaining({ problem: 'file is not a database', action: expect.stringMatching(/use another --db/) }),
    ]);

    const foreign = join(dir, 'app.db');
    raw(foreign, (db) => db.exec('CREATE TABLE users (id INTEGER); CREATE TABLE orders (id INTEGER)'));
    expect(checkDatabase(foreign)).toEqual([
      { problem: 'not a Squash database (tables: orders, users)', repairable: false, action: 'use another --db' },
    ]);

    const newer = database([]).path;
    raw(newer, (db) => db.prepare("INSERT INTO _squash_migrations VALUES ('9999_future', 'x')").run());
    expect(checkDatabase(newer)[0]!.problem).toMatch(/written by a newer Squash \(migrations 9999_future\)/);

    const older = database([]).path;
    raw(older, (db) => db.prepare("DELETE FROM _squash_migrations WHERE name = '0005_run_views'").run());
    expect(checkDatabase(older, { repair: true })[0]!.problem).toMatch(/older Squash .*squash upgrade --db/);
  });
});

describe('another application database', () => {
  it('is refused for writing, and left as it was', () => {
    const path = join(tempDir(), 'app.db');
    raw(path, (db) => db.exec("CREATE TABLE users (id INTEGER, name TEXT); INSERT INTO users VALUES (1, 'a')"));
    const before = readFileSync(path);
    let err: unknown;
    try {
      SqliteStore.open(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).describe()).toBe(`${path}: not a Squash database (tables: users) (use another --db)`);
    expect((err as StoreError).exitCode).toBe(2);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(raw(path, (db) => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all())).toEqual([
      'users',
    ]);
  });
});
