import { existsSync } from 'node:fs';
import { ConfigError, didYouMean } from '@squash/core';
import { terminalText } from '@squash/reporter';
import { defaultPaths, type Ident, identsOf, parseFilter, parseIdentList, SqliteStore } from '@squash/store';

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

const NOUN = { metrics: 'metric', params: 'param', tags: 'tag' } as const;

/** The identifiers a search names: in its filter, order-by and column list (all already valid syntax). */
export function searchIdents(filter: string, orderBy?: string, columns?: string): Ident[] {
  return [
    ...(filter.trim() ? identsOf(parseFilter(filter)) : []),
    ...(orderBy?.trim() ? parseIdentList(orderBy, 'order by', true).map((o) => o.ident) : []),
    ...(columns?.trim() ? parseIdentList(columns, 'columns').map((c) => c.ident) : []),
  ];
}

/**
 * A metric, param or tag key that no run (of `experiment`) has is a typo far more often than a
 * question, and would otherwise read as "0 runs" or an empty column: a ConfigError (exit 2) naming
 * each such key and the nearest key that exists.
 */
export function checkKeysExist(store: SqliteStore, idents: readonly Ident[], experiment?: string): void {
  const problems = new Map<string, string>();
  for (const { kind, key } of idents) {
    if (kind === 'attributes' || problems.has(`${kind}.${key}`) || store.hasKey(kind, key, experiment)) continue;
    const near = didYouMean(key, store.keys(kind));
    // Names from the database and the command line, shown escaped as in a table.
    const where = experiment === undefined ? '' : ` of experiment '${terminalText(experiment)}'`;
    const guess = near && near !== key ? `; did you mean '${terminalText(near)}'?` : '';
    problems.set(`${kind}.${key}`, `no run${where} has ${NOUN[kind]} '${terminalText(key)}'${guess}`);
  }
  if (problems.size)
    throw new ConfigError([...problems.values()].join('; '), {
      hint: 'squash show <run id> lists the metrics, params and tags of a run',
    });
}
