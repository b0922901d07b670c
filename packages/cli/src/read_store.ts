import { existsSync } from 'node:fs';
import { ConfigError } from '@squash/core';
import { defaultPaths, SqliteStore } from '@squash/store';

/** The database a read command looks at, opened read-only; a missing file says how to make one. */
function openForReading(db: string | undefined): SqliteStore {
  const path = defaultPaths(db).db;
  if (!existsSync(path))
    throw new ConfigError(`no database at ${path}; run an experiment first (squash run <file>) or pass --db`);
  return SqliteStore.openReadOnly(path);
}

/** Runs `fn` on the database read-only and closes it, whatever happens. */
export function withReadStore<T>(db: string | undefined, fn: (store: SqliteStore) => T): T {
  const store = openForReading(db);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}
