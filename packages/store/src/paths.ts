import { dirname, join, resolve } from 'node:path';

/** Default locations: the database under `results/`, caches beside it. */
export function defaultPaths(db?: string): { db: string; cacheDir: string } {
  const dbPath = resolve(db ?? join('results', 'squash.db'));
  return { db: dbPath, cacheDir: join(dirname(dbPath), 'cache') };
}
