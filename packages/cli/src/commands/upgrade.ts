import { existsSync } from 'node:fs';
import { ConfigError } from '@squash/core';
import { defaultPaths, MIGRATIONS, SqliteStore } from '@squash/store';
import type { IO } from '../io.js';

export interface UpgradeOptions {
  db?: string;
}

/**
 * `squash upgrade`: brings a database written by an older Squash to the current schema (opening it
 * for writing migrates it) and says which migrations ran. Readers never migrate; they name this command.
 */
export async function upgrade(opts: UpgradeOptions, io: IO): Promise<number> {
  const { db } = defaultPaths(opts.db);
  if (!existsSync(db)) throw new ConfigError(`no database at ${db}; nothing to upgrade (pass --db)`);
  const applied = SqliteStore.upgrade(db);
  io.out(
    applied.length
      ? `${db}: applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.join(', ')}\n`
      : `${db}: already up to date (${MIGRATIONS.length} migrations)\n`,
  );
  return 0;
}
