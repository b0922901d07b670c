import type Database from 'better-sqlite3';
import { ConfigError, didYouMean } from '@squash/core';
import { identName, identsOf, type Ident } from './ast.js';
import { parseFilter, parseIdentList } from './parse.js';
import { filterSql, RUNS_FROM, valueSql, type SqlFragment } from './sql.js';

export type SearchCell = string | number | boolean | null;

export interface SearchOptions {
  /** Comma-separated identifiers, each optionally `asc`/`desc`, e.g. `metrics.accuracy desc, params.bits`. Nulls sort last. */
  orderBy?: string;
  limit?: number;
  /** Identifiers to output (entries may hold comma-separated lists); bare attribute names are allowed. */
  columns?: string[];
  /** Only runs of this experiment. */
  experiment?: string;
  /**
   * Only each trial's current run per experiment — its latest FINISHED run, else its latest — as
   * `squash report` shows them: `--force` reruns and retries after a crash leave older runs behind.
   * The filter applies to those runs.
   */
  latest?: boolean;
}

/** The run a report shows for the trial of `r`: its latest FINISHED run, else its latest (index runs_by_trial). */
const LATEST_OF_TRIAL = `r.rowid = (SELECT r2.rowid FROM runs r2 WHERE r2.experiment_id = r.experiment_id
  AND r2.trial_id = r.trial_id ORDER BY r2.status = 'FINISHED' DESC, r2.rowid DESC LIMIT 1)`;

/** The rows of `squash query`: one record per run, keyed by column name. */
export interface SearchResult {
  columns: string[];
  rows: Array<Record<string, SearchCell>>;
}

export const DEFAULT_COLUMNS = ['run_id', 'experiment', 'sweep', 'label', 'status'];

function checkExperiment(db: Database.Database, name: string): void {
  const names = (db.prepare('SELECT name FROM experiments ORDER BY name').all() as Array<{ name: string }>).map(
    (r) => r.name,
  );
  if (names.includes(name)) return;
  const guess = didYouMean(name, names);
  throw new ConfigError(`no experiment named '${name}'${guess ? `; did you mean '${guess}'?` : ''}`, {
    hint: names.length ? `known: ${names.join(', ')}` : 'the database has no experiments',
  });
}

/**
 * Runs a filter (`metrics.accuracy > 0.97 and params.bits in (4, 8)`; blank text matches every run)
 * as one parameterized statement on `db`. Default columns: run_id, experiment, sweep, label, status,
 * then every identifier the filter and order-by mention. Throws QueryError/ConfigError on bad input.
 * The store calls it inside its read transaction (`SqliteStore.searchRuns`).
 */
export function searchRuns(db: Database.Database, filterText: string, opts: SearchOptions = {}): SearchResult {
  const expr = filterText.trim() ? parseFilter(filterText) : null;
  const order = opts.orderBy?.trim() ? parseIdentList(opts.orderBy, 'order by', true) : [];
  if (opts.limit !== undefined && !(Number.isSafeInteger(opts.limit) && opts.limit >= 0))
    throw new ConfigError(`limit must be a whole number ≥ 0, got ${opts.limit}`);
  if (opts.experiment !== undefined) checkExperiment(db, opts.experiment);

  const wanted = opts.columns?.length
    ? opts.columns.flatMap((c) => parseIdentList(c, 'columns').map((x) => x.ident))
    : [
        ...DEFAULT_COLUMNS.map((key): Ident => ({ kind: 'attributes', key, column: 0 })),
        ...identsOf(expr),
        ...order.map((o) => o.ident),
      ];
  const cols = new Map<string, Ident>();
  for (const ident of wanted) if (!cols.has(identName(ident))) cols.set(identName(ident), ident);

  const parts: SqlFragment[] = [];
  const select = [...cols.values()].map((ident, i) => {
    const v = valueSql(ident);
    parts.push(v);
    if (ident.kind !== 'params') return `${v.sql} AS c${i}`;
    const t = valueSql(ident, true);
    parts.push(t);
    return `${v.sql} AS c${i}, ${t.sql} AS t${i}`;
  });
  let sql = `SELECT ${select.join(', ')} FROM ${RUNS_FROM}`;
  const where: SqlFragment[] = [];
  if (expr) where.push(filterSql(expr));
  if (opts.experiment !== undefined) where.push({ sql: 'e.name = ?', params: [opts.experiment] });
  if (opts.latest) where.push({ sql: LATEST_OF_TRIAL, params: [] });
  if (where.length) sql += ` WHERE ${where.map((w) => w.sql).join(' AND ')}`;
  parts.push(...where);
  const keys = order.map(({ ident, desc }) => {
    const v = valueSql(ident);
    parts.push(v, v);
    return `${v.sql} IS NULL, ${v.sql}${desc ? ' DESC' : ''}`;
  });
  sql += ` ORDER BY ${[...keys, ...(order.length ? [] : ['e.name', 'r.is_baseline DESC', 'r.started_at']), 'r.rowid'].join(', ')}`;
  if (opts.limit !== undefined) {
    sql += ' LIMIT ?';
    parts.push({ sql: '', params: [opts.limit] });
  }

  const names = [...cols.keys()];
  const idents = [...cols.values()];
  const raw = db.prepare(sql).all(...parts.flatMap((p) => p.params)) as Array<Record<string, SearchCell>>;
  const rows = raw.map((r) =>
    Object.fromEntries(
      idents.map((ident, i) => {
        const v = r[`c${i}`] ?? null;
        const isBool =
          (ident.kind === 'params' && r[`t${i}`] === 'boolean') ||
          (ident.kind === 'attributes' && ident.key === 'is_baseline');
        return [names[i]!, isBool && v !== null ? v === 1 : v];
      }),
    ),
  );
  return { columns: names, rows };
}
