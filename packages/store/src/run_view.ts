import type Database from 'better-sqlite3';
import { StoreError } from '@squash/core';
import { damagedHint } from './db.js';
import type { RunStatus, RunView } from './types.js';

/** A RunView as stored in `runs.view_json`: everything but the experiment name (known from the join). */
export type StoredView = Omit<RunView, 'experiment'>;

/**
 * Builds the views of the runs matching `where` from the normalized tables: five queries in all,
 * grouped in memory. Writers call it after every change to a run, so readers get a run's view from
 * one column (`view_json`) instead of joining 500,000 metric rows for a 100,000-run report.
 */
export function buildViews(db: Database.Database, where: string, args: unknown[]): Map<string, StoredView> {
  const rows = db
    .prepare(`SELECT id, trial_id, sweep, label, is_baseline, status, seed, backend, started_at, ended_at, error, attempt, squash_version
              FROM runs r WHERE ${where}`)
    .all(...args) as Array<Record<string, unknown>>;
  const out = new Map<string, StoredView>();
  if (!rows.length) return out;
  const scope = `x.run_id IN (SELECT r.id FROM runs r WHERE ${where})`;
  const grouped = <T extends { run_id: string }>(sql: string) => {
    const byRun = new Map<string, T[]>();
    for (const row of db.prepare(sql).all(...args) as T[]) {
      const list = byRun.get(row.run_id);
      if (list) list.push(row);
      else byRun.set(row.run_id, [row]);
    }
    return byRun;
  };
  const params = grouped<{
    run_id: string;
    key: string;
    type: string;
    value_num: number | null;
    value_text: string | null;
  }>(`SELECT x.run_id, x.key, x.type, x.value_num, x.value_text FROM params x WHERE ${scope} ORDER BY x.key`);
  const metrics = grouped<{ run_id: string; key: string; value: number }>(
    `SELECT x.run_id, x.key, x.value FROM metrics x WHERE x.step = 0 AND ${scope} ORDER BY x.key`,
  );
  const artifacts = grouped<{ run_id: string; kind: string; path: string; bytes: number; sha256: string | null }>(
    `SELECT x.run_id, x.kind, x.path, x.bytes, x.sha256 FROM artifacts x WHERE ${scope} ORDER BY x.kind`,
  );
  const tags = grouped<{ run_id: string; key: string; value: string }>(
    `SELECT x.run_id, x.key, x.value FROM tags x WHERE ${scope} ORDER BY x.key`,
  );
  for (const r of rows) {
    const id = r.id as string;
    out.set(id, {
      id,
      trialId: r.trial_id as string,
      sweep: r.sweep as string,
      label: r.label as string,
      isBaseline: r.is_baseline === 1,
      status: r.status as RunStatus,
      seed: r.seed as number,
      attempt: r.attempt as number,
      backend: r.backend as string | null,
      squashVersion: r.squash_version as string | null,
      startedAt: r.started_at as string | null,
      endedAt: r.ended_at as string | null,
      error: r.error as string | null,
      params: Object.fromEntries(
        (params.get(id) ?? []).map((p) => [
          p.key,
          p.type === 'number' ? p.value_num! : p.type === 'boolean' ? p.value_num === 1 : p.value_text!,
        ]),
      ),
      metrics: Object.fromEntries((metrics.get(id) ?? []).map((m) => [m.key, m.value])),
      artifacts: Object.fromEntries(
        (artifacts.get(id) ?? []).map((a) => [
          a.kind,
          { path: a.path, bytes: a.bytes, ...(a.sha256 === null ? {} : { sha256: a.sha256 }) },
        ]),
      ),
      tags: Object.fromEntries((tags.get(id) ?? []).map((t) => [t.key, t.value])),
    });
  }
  return out;
}

/**
 * Rewrites `view_json` of the runs matching `where` (call inside the writer's transaction). Stored
 * as SQLite's binary JSONB: `->>` reads one metric without parsing the text (a report's heads read
 * two per run), and `json()` gives back the same text (JSONB keeps numbers as written).
 */
export function refreshViews(db: Database.Database, where: string, args: unknown[]): void {
  const update = db.prepare('UPDATE runs SET view_json = jsonb(?) WHERE id = ?');
  // JSON.stringify prints the shortest string that reads back as the same double: values round-trip.
  for (const [id, view] of buildViews(db, where, args)) update.run(JSON.stringify(view), id);
}

/** Rewrites the views of the given runs (in chunks: SQLite bounds the number of bound values). */
export function refreshRunViews(db: Database.Database, runIds: Iterable<string>): void {
  const ids = [...runIds];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    refreshViews(db, `r.id IN (${chunk.map(() => '?').join(', ')})`, chunk);
  }
}

/** A stored view read back; text that does not parse is a damaged file, not a bug (doctor rebuilds views). */
export function parseStoredView(json: string, path: string): StoredView {
  try {
    return JSON.parse(json) as StoredView;
  } catch (e) {
    throw new StoreError('a run record does not read back (its stored view is not valid JSON)', {
      location: { file: path },
      hint: damagedHint(path),
      cause: e,
    });
  }
}
