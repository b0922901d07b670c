import { dirname, join, resolve } from 'node:path';

/** Default locations: the database under `results/`, caches and compressed models beside it. */
export function defaultPaths(db?: string): { db: string; cacheDir: string; artifactDir: string } {
  const dbPath = resolve(db ?? join('results', 'squash.db'));
  return { db: dbPath, cacheDir: join(dirname(dbPath), 'cache'), artifactDir: join(dirname(dbPath), 'artifacts') };
}
