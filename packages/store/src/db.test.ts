import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InternalError, StoreError } from '@squash/core';
import { BUSY_TIMEOUT_MS, openDatabase, storeError, withTransaction } from './db.js';
import { SqliteStore } from './sqlite_store.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'squash-db-'));

function table(): Database.Database {
  const db = openDatabase(join(tempDir(), 'db.sqlite'), { readonly: false });
  db.exec('CREATE TABLE t (x INTEGER NOT NULL)');
  return db;
}
const rows = (db: Database.Database) => db.prepare('SELECT x FROM t ORDER BY x').pluck().all();
const caught = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

describe('openDatabase', () => {
  it('sets the PRAGMAs of writers and readers', () => {
    const path = join(tempDir(), 'nested', 'db.sqlite');
    const w = openDatabase(path, { readonly: false });
    expect(w.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(w.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(w.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
    const r = openDatabase(path, { readonly: true });
    expect(r.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(r.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
    expect(r.pragma('mmap_size', { simple: true })).toBeGreaterThan(0);
    r.close();
    w.close();
  });
});

describe('withTransaction', () => {
  it('commits, or rolls back everything on an error', () => {
    const db = table();
    withTransaction(db, () => db.prepare('INSERT INTO t VALUES (1)').run());
    expect(() =>
      withTransaction(db, () => {
        db.prepare('INSERT INTO t VALUES (2)').run();
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(rows(db)).toEqual([1]);
    expect(db.inTransaction).toBe(false);
  });

  it('nests as savepoints: a failed inner step rolls back alone', () => {
    const db = table();
    withTransaction(db, () => {
      db.prepare('INSERT INTO t VALUES (1)').run();
      expect(() =>
        withTransaction(db, () => {
          db.prepare('INSERT INTO t VALUES (2)').run();
          withTransaction(db, () => db.prepare('INSERT INTO t VALUES (3)').run());
          throw new Error('inner');
        }),
      ).toThrow('inner');
      withTransaction(db, () => db.prepare('INSERT INTO t VALUES (4)').run());
    });
    expect(rows(db)).toEqual([1, 4]);
  });

  it('refuses an async function (it would commit before its awaits)', () => {
    const db = table();
    const err = caught(() =>
      withTransaction(db, async () => {
        db.prepare('INSERT INTO t VALUES (1)').run();
      }),
    );
    expect(err).toBeInstanceOf(InternalError);
    expect(rows(db)).toEqual([]);
  });

  it('turns an unexpected SQLite error into an InternalError naming the file', () => {
    const db = table();
    const err = caught(() => withTransaction(db, () => db.prepare('INSERT INTO t VALUES (NULL)').run()));
    expect(err).toBeInstanceOf(InternalError);
    expect((err as InternalError).location?.file).toBe(db.name);
    expect((err as InternalError).message).toMatch(/NOT NULL constraint failed: t.x \(SQLITE_CONSTRAINT_NOTNULL\)/);
  });

  it('is the only code that begins, commits or rolls back, or sets PRAGMAs', () => {
    const dir = join(import.meta.dirname, '.');
    const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('__tests__') && f !== 'db.ts',
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const f of sources) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text, f).not.toMatch(/\.transaction\(|\.pragma\(|\b(BEGIN|COMMIT|ROLLBACK|SAVEPOINT)\b/);
    }
  });
});

describe('driver errors', () => {
  const mapped = (code: string, message = 'x') => storeError(new Database.SqliteError(message, code), 'r/x.db');

  it.each([
    ['SQLITE_BUSY', 1, /r\/x.db: database is locked by another process \(gave up after 10 s\)/],
    ['SQLITE_BUSY_SNAPSHOT', 1, /locked/],
    ['SQLITE_CORRUPT', 2, /^r\/x.db: x \(damaged: run `squash doctor --db r\/x.db` or restore a backup\)$/],
    ['SQLITE_NOTADB', 2, /^r\/x.db: x \(use another --db; if it held Squash runs, restore a backup\)$/],
    ['SQLITE_READONLY', 2, /^r\/x.db: x \(the file or its directory is read-only\)$/],
    ['SQLITE_READONLY_DBMOVED', 2, /read-only/],
    ['SQLITE_CANTOPEN', 2, /^r\/x.db: cannot open database: x$/],
    ['SQLITE_FULL', 1, /^r\/x.db: disk full: the database cannot grow \(free some space/],
    ['SQLITE_IOERR_WRITE', 1, /^r\/x.db: disk I\/O error \(SQLITE_IOERR_WRITE\) \(the disk may be full or failing/],
  ] as const)('%s → StoreError, exit %i', (code, exit, text) => {
    const e = mapped(code);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).exitCode).toBe(exit);
    expect((e as StoreError).describe()).toMatch(text);
    expect((e as StoreError).cause).toBeInstanceOf(Database.SqliteError);
  });

  it('passes other errors through', () => {
    const e = new TypeError('t');
    expect(storeError(e, 'p')).toBe(e);
    const s = new StoreError('s');
    expect(storeError(s, 'p')).toBe(s);
    expect(mapped('SQLITE_BUSYNESS')).toBeInstanceOf(InternalError);
  });

  it('maps a file that is not a database, or is corrupt, when it is opened or read', () => {
    const dir = tempDir();
    const text = join(dir, 'notes.db');
    writeFileSync(text, 'these are notes, not a database\n'.repeat(200));
    for (const open of [SqliteStore.open, SqliteStore.openReadOnly]) {
      const e = caught(() => open(text));
      expect(e).toBeInstanceOf(StoreError);
      expect((e as StoreError).describe()).toBe(
        `${text}: file is not a database (use another --db; if it held Squash runs, restore a backup)`,
      );
      expect((e as StoreError).exitCode).toBe(2);
    }
    // A real database whose pages were overwritten: the damage shows when the runs are read.
    const path = join(dir, 'corrupt.db');
    const store = SqliteStore.open(path);
    const exp = store.ensureExperiment('e', '');
    for (let i = 0; i < 200; i++)
      store.createRun({
        experimentId: exp,
        trialId: `t${i}`,
        sweep: 's',
        label: 'x'.repeat(200),
        isBaseline: false,
        seed: 1,
        backend: 'cpu',
        config: {},
      });
    store.close();
    const bytes = readFileSync(path);
    const pageSize = bytes.readUInt16BE(16);
    bytes.fill(0xa5, pageSize); // every page but the first (the schema)
    writeFileSync(path, bytes);
    let reader: SqliteStore | undefined;
    const e = caught(() => {
      reader = SqliteStore.openReadOnly(path);
      reader.listRuns('e');
    });
    reader?.close();
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).describe()).toMatch(
      /: database disk image is malformed \(damaged: run `squash doctor --db .*corrupt\.db` or restore a backup\)$/,
    );
  });

  it('maps a write on a read-only connection', () => {
    const path = join(tempDir(), 'db.sqlite');
    SqliteStore.open(path).close();
    const reader = SqliteStore.openReadOnly(path);
    const e = caught(() => reader.ensureExperiment('e', ''));
    reader.close();
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).describe()).toBe(
      `${path}: attempt to write a readonly database (the file or its directory is read-only)`,
    );
  });

  it('maps a write that waits too long for another process', () => {
    const path = join(tempDir(), 'db.sqlite');
    const [a, b] = [openDatabase(path, { readonly: false }), openDatabase(path, { readonly: false })];
    a.exec('CREATE TABLE t (x)');
    b.pragma('busy_timeout = 0'); // the store waits BUSY_TIMEOUT_MS; this shows the mapping without the wait
    a.exec('BEGIN IMMEDIATE');
    const e = caught(() => withTransaction(b, () => b.exec('INSERT INTO t VALUES (1)'), { immediate: true }));
    a.exec('ROLLBACK');
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).exitCode).toBe(1);
    expect((e as StoreError).describe()).toMatch(/database is locked by another process/);
    expect(b.inTransaction).toBe(false);
    a.close();
    b.close();
  });
});
