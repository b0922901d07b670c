import Database from 'better-sqlite3';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileError, InternalError, SquashError, StoreError } from '@squash/core';

/**
 * The one place that talks to the driver about connections and transactions (MLflow's managed
 * session): `openDatabase` sets every PRAGMA, `withTransaction` is the only code that begins,
 * commits or rolls back, and both turn driver errors into Squash errors naming the file.
 */

/** How long a write waits for another process's write to finish before giving up. */
export const BUSY_TIMEOUT_MS = 10_000;

/**
 * A writer needs the file and its directory writable (WAL keeps two files beside the database).
 * SQLite would open a read-only file read-only without a word and fail at the first write, in
 * the middle of a sweep: say it before anything starts.
 */
function checkWritable(path: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fileError(e, dir, 'cannot create the database directory');
  }
  for (const [p, what] of [
    [path, 'the database file'],
    [dir, 'the directory of the database'],
  ] as const) {
    try {
      accessSync(p, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // a new database: the directory check decides
      throw new StoreError(`${what} is not writable (${code})`, {
        location: { file: path },
        hint:
          code === 'EROFS' ? 'the file system is read-only; use another --db' : 'make it writable, or use another --db',
        cause: e,
      });
    }
  }
}

/**
 * Opens a connection with the PRAGMAs every Squash connection uses; writers create the file.
 * `accept` sees the file before a writer changes anything in it (WAL mode rewrites its header):
 * it throws to refuse the file.
 */
export function openDatabase(
  path: string,
  { readonly, accept }: { readonly: boolean; accept?: (db: Database.Database) => void },
): Database.Database {
  // SQLite says "disk I/O error" or "unable to open" for a directory; say what it is.
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
    throw new StoreError('is a directory, not a database file', {
      location: { file: path },
      hint: 'give --db the path of a database file, e.g. results/squash.db',
    });
  if (!readonly) checkWritable(path);
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
    accept?.(db);
    // WAL: a reader never blocks a running sweep, and the sweep never blocks a reader.
    if (!readonly) db.pragma('journal_mode = WAL');
  } catch (e) {
    db.close();
    throw storeError(e, path);
  }
  return db;
}

/** What `PRAGMA integrity_check` finds wrong in the file (at most `max` lines); none when it is whole. */
export function integrityProblems(db: Database.Database, max = 20): string[] {
  try {
    const lines = db.pragma(`integrity_check(${max})`, { simple: false }) as Array<{ integrity_check: string }>;
    const found = lines.flatMap((l) => l.integrity_check.split('\n')).filter((l) => l !== 'ok');
    return found;
  } catch (e) {
    throw storeError(e, db.name);
  }
}

/** Rows whose foreign key points at no row (`PRAGMA foreign_key_check`), counted per table and parent. */
export function foreignKeyProblems(db: Database.Database): Array<{ table: string; parent: string; rows: number }> {
  try {
    const rows = db.pragma('foreign_key_check') as Array<{ table: string; parent: string }>;
    const counts = new Map<string, { table: string; parent: string; rows: number }>();
    for (const r of rows) {
      const k = `${r.table}\0${r.parent}`;
      const c = counts.get(k) ?? { table: r.table, parent: r.parent, rows: 0 };
      c.rows++;
      counts.set(k, c);
    }
    return [...counts.values()];
  } catch (e) {
    throw storeError(e, db.name);
  }
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

/** A path as one shell word, so a printed command can be pasted. */
export const shellWord = (s: string) => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** What to do about a database file SQLite finds damaged (doctor reports; it does not rebuild). */
export const damagedHint = (path: string) =>
  `damaged: run \`squash doctor --db ${shellWord(path)}\` or restore a backup`;

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
  if (is('SQLITE_NOTADB'))
    return new StoreError(e.message, { ...at, hint: 'use another --db; if it held Squash runs, restore a backup' });
  if (is('SQLITE_CORRUPT')) return new StoreError(e.message, { ...at, hint: damagedHint(path) });
  // A reader of a WAL database must create `<db>-shm` beside it when no writer has.
  if (code === 'SQLITE_READONLY_DIRECTORY')
    return new StoreError('cannot read the database: its directory is read-only', {
      ...at,
      hint: 'SQLite needs to create the -shm file beside a WAL database to read it: copy the database somewhere writable',
    });
  if (is('SQLITE_READONLY'))
    return new StoreError(e.message, { ...at, hint: 'the file or its directory is read-only' });
  if (is('SQLITE_CANTOPEN')) return new StoreError(`cannot open database: ${e.message}`, at);
  if (is('SQLITE_FULL'))
    return new StoreError(
      'disk full: the database cannot grow',
      { ...at, hint: 'free some space and run again; finished runs are kept' },
      1,
    );
  if (is('SQLITE_IOERR'))
    return new StoreError(
      `disk I/O error (${code})`,
      { ...at, hint: 'the disk may be full or failing: free some space or check it, then run again' },
      1,
    );
  // Squash writes every JSON column itself: JSON that SQLite cannot read back is damage, not a bug.
  if (code === 'SQLITE_ERROR' && /malformed JSON/i.test(e.message))
    return new StoreError(`a stored record does not read back (${e.message})`, { ...at, hint: damagedHint(path) });
  return new InternalError(`database: ${e.message} (${code})`, at);
}
