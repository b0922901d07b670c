import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, SqliteStore } from '@squash/store';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { squashInProcess } from '../__tests__/in_process.js';

const squash = squashInProcess;

/** A database whose migration record is empty: what Squash before its first migration would leave. */
function databaseBeforeEveryMigration(path: string): void {
  SqliteStore.open(path).close();
  const db = new Database(path);
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[];
  db.pragma('foreign_keys = OFF');
  for (const t of tables) db.exec(`DROP TABLE "${t}"`);
  db.exec('CREATE TABLE _squash_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  db.close();
}

describe('squash upgrade', () => {
  it('applies the missing migrations, names them, then says the file is up to date', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'squash-upgrade-')), 'old.db');
    databaseBeforeEveryMigration(db);
    const first = await squash(['upgrade', '--db', db]);
    expect(first.code).toBe(0);
    expect(first.out).toBe(
      `${db}: applied ${MIGRATIONS.length} migrations: ${MIGRATIONS.map((m) => m.name).join(', ')}\n`,
    );
    const again = await squash(['upgrade', '--db', db]);
    expect(again.code).toBe(0);
    expect(again.out).toBe(`${db}: already up to date (${MIGRATIONS.length} migrations)\n`);
    // And the upgraded file reads like any other.
    expect((await squash(['ls', '--db', db, '--format', 'csv'])).out).toMatch(/^experiment,sweeps,runs,/);
  });

  it('does not create a database that is not there', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'squash-upgrade-')), 'none.db');
    const r = await squash(['upgrade', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no database at .*none\.db; nothing to upgrade/);
    expect(existsSync(db)).toBe(false);
  });
});
