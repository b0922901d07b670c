import type Database from 'better-sqlite3';
import { StoreError } from '@squash/core';
import { shellWord, withTransaction } from './db.js';
import { refreshViews } from './run_view.js';

/**
 * Named, ordered schema steps (sqlite-utils' migrations). `applyMigrations` runs the pending ones
 * and their records in one transaction; readers only check (`checkSchema`), they never migrate.
 */
export interface Migration {
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: Migration[] = [
  {
    name: '0001_initial',
    up(db) {
      db.exec(`
        CREATE TABLE experiments (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          description TEXT NOT NULL DEFAULT '',
          created_at TEXT NOT NULL
        );
        CREATE TABLE runs (
          id TEXT PRIMARY KEY,
          experiment_id INTEGER NOT NULL REFERENCES experiments(id),
          trial_id TEXT NOT NULL,
          sweep TEXT NOT NULL,
          label TEXT NOT NULL,
          is_baseline INTEGER NOT NULL DEFAULT 0 CHECK (is_baseline IN (0, 1)),
          status TEXT NOT NULL CHECK (status IN ('SCHEDULED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
          seed INTEGER NOT NULL,
          backend TEXT,
          config_json TEXT NOT NULL,
          started_at TEXT,
          ended_at TEXT,
          error TEXT
        );
        CREATE INDEX runs_by_trial ON runs(experiment_id, trial_id, status);
        CREATE TABLE params (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          key TEXT NOT NULL,
          type TEXT NOT NULL CHECK (type IN ('number', 'string', 'boolean')),
          value_num REAL,
          value_text TEXT,
          PRIMARY KEY (run_id, key)
        );
        CREATE INDEX params_by_value ON params(key, value_num);
        CREATE TABLE metrics (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          key TEXT NOT NULL,
          value REAL NOT NULL,
          step INTEGER NOT NULL DEFAULT 0,
          time TEXT NOT NULL,
          PRIMARY KEY (run_id, key, step)
        );
      `);
    },
  },
  {
    name: '0002_artifacts',
    up(db) {
      db.exec(`
        CREATE TABLE artifacts (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          kind TEXT NOT NULL,
          path TEXT NOT NULL,
          bytes INTEGER NOT NULL,
          PRIMARY KEY (run_id, kind)
        );
      `);
    },
  },
  {
    name: '0003_sweeps_attempts_heartbeats',
    up(db) {
      db.exec(`
        CREATE TABLE sweeps (
          id INTEGER PRIMARY KEY,
          experiment_id INTEGER NOT NULL REFERENCES experiments(id),
          spec_hash TEXT NOT NULL,
          spec_text TEXT NOT NULL,
          file TEXT,
          squash_version TEXT NOT NULL,
          created_at TEXT NOT NULL,
          UNIQUE (experiment_id, spec_hash)
        );
        ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps(id);
        ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE runs ADD COLUMN host TEXT;
        ALTER TABLE runs ADD COLUMN pid INTEGER;
        ALTER TABLE runs ADD COLUMN invocation TEXT;
        ALTER TABLE runs ADD COLUMN squash_version TEXT;
        ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
        CREATE TABLE tags (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (run_id, key)
        );
      `);
    },
  },
  {
    name: '0004_query_indexes',
    // Covering indexes for `squash query`: typed comparisons on params, final metrics, tags.
    up(db) {
      db.exec(`
        CREATE INDEX metrics_by_key_value ON metrics(key, step, value, run_id);
        CREATE INDEX params_by_num ON params(key, type, value_num, run_id);
        CREATE INDEX params_by_text ON params(key, type, value_text, run_id);
        CREATE INDEX tags_by_key_value ON tags(key, value, run_id);
      `);
    },
  },
  {
    name: '0005_run_views',
    // Each run's view (params, final metrics, artifacts, tags) kept as one JSON column, so a report
    // reads one row per run; the index lists an experiment's runs in insertion (claim) order. The
    // views are built by the last migration (`buildViews` reads the schema as it is now, columns
    // added later included); pending migrations run in one transaction, so no reader sees them unset.
    up(db) {
      db.exec(`
        ALTER TABLE runs ADD COLUMN view_json TEXT;
        CREATE INDEX runs_by_experiment ON runs(experiment_id);
      `);
    },
  },
  {
    name: '0006_artifact_checksums',
    // The sha256 of each artifact as written: `squash export` refuses a file altered since. Rows of
    // earlier runs keep NULL: no checksum was taken, and their views read as before.
    up(db) {
      db.exec('ALTER TABLE artifacts ADD COLUMN sha256 TEXT');
      refreshViews(db, '1', []);
    },
  },
];

const RECORDS = '_squash_migrations';

/** The tables of a file that has no migration records: none for a new file, another application's otherwise. */
function userTables(db: Database.Database): string[] {
  return db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .pluck()
    .all() as string[];
}

function hasRecords(db: Database.Database): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '${RECORDS}'`).get() !== undefined;
}

/** Another application's SQLite file: Squash neither reads it nor adds its tables to it. */
function notSquash(tables: string[], path: string): StoreError {
  const shown = tables.length > 8 ? [...tables.slice(0, 8), '…'] : tables;
  return new StoreError(`not a Squash database (tables: ${shown.join(', ')})`, {
    location: { file: path },
    hint: 'use another --db',
  });
}

/** Refuses another application's SQLite file before anything is written to it (openDatabase's `accept`). */
export function refuseForeign(db: Database.Database): void {
  if (hasRecords(db)) return;
  const tables = userTables(db);
  if (tables.length) throw notSquash(tables, db.name);
}

function appliedNames(db: Database.Database): string[] {
  return db.prepare(`SELECT name FROM ${RECORDS} ORDER BY rowid`).pluck().all() as string[];
}

/** Applied migrations this Squash does not know: the file was written by a newer one. */
function refuseNewer(applied: string[], path: string, migrations: readonly Migration[]): void {
  const known = new Set(migrations.map((m) => m.name));
  const unknown = applied.filter((n) => !known.has(n));
  if (unknown.length)
    throw new StoreError(`written by a newer Squash (migrations ${unknown.join(', ')}); upgrade Squash to open it`, {
      location: { file: path },
    });
}

/**
 * Brings a database to the current schema: every pending migration with its record, in one
 * IMMEDIATE transaction, so a concurrent reader sees the old schema or the new one, never half,
 * and of two processes upgrading one file the second finds nothing left to do.
 */
export function applyMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): string[] {
  return withTransaction(
    db,
    () => {
      if (!hasRecords(db)) {
        refuseForeign(db);
        db.exec(`CREATE TABLE ${RECORDS} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`);
      }
      const applied = appliedNames(db);
      refuseNewer(applied, db.name, migrations);
      const done = new Set(applied);
      const record = db.prepare(`INSERT INTO ${RECORDS} (name, applied_at) VALUES (?, ?)`);
      const ran: string[] = [];
      for (const m of migrations) {
        if (done.has(m.name)) continue;
        m.up(db);
        record.run(m.name, new Date().toISOString());
        ran.push(m.name);
      }
      return ran;
    },
    { immediate: true },
  );
}

/**
 * What a reader checks before reading (it never writes): the file is a Squash database whose
 * schema is exactly this Squash's. Names the command that upgrades an older file.
 */
export function checkSchema(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const path = db.name;
  const applied = withTransaction(db, () => {
    if (!hasRecords(db)) {
      const tables = userTables(db);
      if (tables.length) throw notSquash(tables, path);
      throw new StoreError('empty database (a squash run may be creating it; try again)', { location: { file: path } });
    }
    return appliedNames(db);
  });
  refuseNewer(applied, path, migrations);
  const done = new Set(applied);
  const pending = migrations.map((m) => m.name).filter((n) => !done.has(n));
  if (pending.length)
    throw new StoreError(
      `written by an older Squash (pending migrations ${pending.join(', ')}); run \`squash upgrade --db ${shellWord(path)}\` to upgrade it`,
      { location: { file: path } },
    );
}
