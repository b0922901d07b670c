import { SqliteStore, type SearchOptions, type SearchResult } from '@squash/store';

/**
 * @deprecated Use `store.searchRuns(filter, options)`. Kept only while packages/cli still calls
 * `queryRuns(store.db, …)` (issue 11 moves the search into the store); it searches through its own
 * read-only store on the connection's file, so it needs nothing from the connection but its name.
 */
export function queryRuns(db: { name: string }, filter: string, options: SearchOptions = {}): SearchResult {
  const store = SqliteStore.openReadOnly(db.name);
  try {
    return store.searchRuns(filter, options);
  } finally {
    store.close();
  }
}
