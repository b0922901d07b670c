import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { InternalError, SquashError, StoreError } from '@squash/core';

/**
 * The one place that talks to the driver about connections and transactions (MLflow's managed
 * session): `openDatabase` sets every PRAGMA, `withTransaction` is the only code that begins,
 * commits or rolls back, and both turn driver errors into Squash errors naming the file.
 */

/** How long a write waits for another process's write to finish before giving up. */
export const BUSY_TIMEOUT_MS = 10_000;

/** Opens a connection with the PRAGMAs every Squash connection uses; writers create the file. */
export function openDatabase(path: string, { readonly }: { readonly: boolean }): Database.Database {
  if (!readonly) mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly });
  } catch (e) {
    throw new StoreError(`cannot open database: ${(e as Error).message}`, { location: { file: path }, cause: e });
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Readers map the file instead of copying pages through read(): a report scanning 100,000 runs
    // spent half its time in the kernel copying pages.
    if (readonly) db.pragma('mmap_size = 1073741824');
    db.pragma('foreign_keys = ON');
    // WAL: a reader never blocks a running sweep, and the sweep never blocks a reader.
    if (!readonly) db.pragma('journal_mode = WAL');
  } catch (e) {
    db.close();
    throw storeError(e, path);
  }
  return db;
}

/**
 * Runs `fn` in a transaction: BEGIN (IMMEDIATE when asked: take the write lock before reading, for
 * read-then-write steps that race other processes) at the top level, a SAVEPOINT when nested, so a
 * failing inner step rolls back alone and the outer one decides. `fn` must be synchronous.
 */
export function withTransaction<T>(db: Database.Database, fn: () => T, { immediate = false } = {}): T {
  const nested = db.inTransaction;
  try {
    db.exec(nested ? 'SAVEPOINT squash_nested' : immediate ? 'BEGIN IMMEDIATE' : 'BEGIN');
  } catch (e) {
    throw storeError(e, db.name);
  }
  try {
    const out = fn();
    if (out instanceof Promise) throw new InternalError('a store transaction must not await (it would commit early)');
    db.exec(nested ? 'RELEASE squash_nested' : 'COMMIT');
    return out;
  } catch (e) {
    // SQLite rolls back by itself after some errors (disk full, I/O): then there is nothing to undo.
    if (db.inTransaction) db.exec(nested ? 'ROLLBACK TO squash_nested; RELEASE squash_nested' : 'ROLLBACK');
    throw storeError(e, db.name);
  }
}

const BAD_FILE = 'not a usable Squash database';

/**
 * A driver error as a Squash error naming the database: a StoreError (exit 2) when the file is the
 * problem, (exit 1) when the machine is; any other SQLite error is a bug in Squash (InternalError).
 * Errors that are not the driver's pass through unchanged.
 */
export function storeError(e: unknown, path: string): unknown {
  if (e instanceof SquashError || !(e instanceof Database.SqliteError)) return e;
  const code = e.code;
  const at = { location: { file: path }, cause: e };
  const is = (prefix: string) => code === prefix || code.startsWith(`${prefix}_`);
  if (is('SQLITE_BUSY') || is('SQLITE_LOCKED'))
    return new StoreError(
      `database is locked by another process (gave up after ${BUSY_TIMEOUT_MS / 1000} s)`,
      { ...at, hint: 'another squash command is writing it; try again when it is done' },
      1,
    );
  if (is('SQLITE_CORRUPT') || is('SQLITE_NOTADB')) return new StoreError(e.message, { ...at, hint: BAD_FILE });
  if (is('SQLITE_READONLY'))
    return new StoreError(e.message, { ...at, hint: 'the file or its directory is read-only' });
  if (is('SQLITE_CANTOPEN')) return new StoreError(`cannot open database: ${e.message}`, at);
  if (is('SQLITE_FULL'))
    return new StoreError(
      'disk full: the database cannot grow',
      { ...at, hint: 'free some space and run again; finished runs are kept' },
      1,
    );
  if (is('SQLITE_IOERR')) return new StoreError(`disk I/O error (${code})`, at, 1);
  return new InternalError(`database: ${e.message} (${code})`, at);
}
