import { existsSync } from 'node:fs';
import { ConfigError } from '@squash/core';
import { defaultPaths, MIGRATIONS, SqliteStore } from '@squash/store';
import type { IO } from '../io.js';

export interface UpgradeOptions {
  db?: string;
}

/**
 * The migrations recorded since `since` (an ISO time taken before opening). The store records each
 * migration with the time it ran and does not report what `open` applied, so this reads its record.
 */
function appliedSince(store: SqliteStore, since: string): string[] {
  return (
    store.db.prepare('SELECT name FROM _squash_migrations WHERE applied_at >= ? ORDER BY name').all(since) as Array<{
      name: string;
    }>
  ).map((r) => r.name);
}

/**
 * `squash upgrade`: brings a database written by an older Squash to the current schema (opening it
 * for writing migrates it) and says which migrations ran. Readers never migrate; they name this command.
 */
export async function upgrade(opts: UpgradeOptions, io: IO): Promise<number> {
  const { db } = defaultPaths(opts.db);
  if (!existsSync(db)) throw new ConfigError(`no database at ${db}; nothing to upgrade (pass --db)`);
  const since = new Date().toISOString();
  const store = SqliteStore.open(db);
  try {
    const applied = appliedSince(store, since);
    io.out(
      applied.length
        ? `${db}: applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.join(', ')}\n`
        : `${db}: already up to date (${MIGRATIONS.length} migrations)\n`,
    );
  } finally {
    store.close();
  }
  return 0;
}
