import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, SQUASH_VERSION, stableHash, type ParamValue } from '@squash/core';
import { MIGRATIONS } from './migrations.js';
import type { ClaimRequest, ClaimResult, MetricInput, NewRun, RunStatus, RunStore, RunView, WorkerIdentity } from './types.js';

const now = () => new Date().toISOString();

/** A run's process counts as dead after this long without a heartbeat (other hosts, reused pids). */
export const STALE_AFTER_SECONDS = 60;

/**
 * On this host a dead pid is known at once; elsewhere only a stale heartbeat tells. A live pid
 * with a stale heartbeat is a reused pid, so it counts as dead too.
 */
function isAlive(r: { host: string | null; pid: number | null; heartbeat_at: string | null }, host: string): boolean {
  const fresh = r.heartbeat_at !== null && Date.now() - Date.parse(r.heartbeat_at) < STALE_AFTER_SECONDS * 1000;
  if (r.host !== host || r.pid === null) return fresh;
  try {
    process.kill(r.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  return fresh;
}

/** The one place that sets PRAGMAs; callers get a ready connection. */
function open(path: string, readonly: boolean): Database.Database {
  if (!readonly) mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly });
  } catch (e) {
    throw new ConfigError(`cannot open database: ${(e as Error).message}`, { location: { file: path } });
  }
  db.pragma('busy_timeout = 10000');
  db.pragma('foreign_keys = ON');
  if (!readonly) db.pragma('journal_mode = WAL');
  return db;
}

function migrate(db: Database.Database, path: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS _squash_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT name FROM _squash_migrations').all() as Array<{ name: string }>).map((r) => r.name));
  const known = new Set(MIGRATIONS.map((m) => m.name));
  const unknown = [...applied].filter((n) => !known.has(n));
  if (unknown.length) {
    throw new ConfigError(`database was written by a newer Squash (migrations ${unknown.join(', ')}); upgrade Squash to open it`, { location: { file: path } });
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.name)) continue;
    db.transaction(() => {
      m.up(db);
      db.prepare('INSERT INTO _squash_migrations (name, applied_at) VALUES (?, ?)').run(m.name, now());
    }).immediate();
  }
}

function paramRow(v: ParamValue): { type: string; num: number | null; text: string | null } {
  if (typeof v === 'number') return { type: 'number', num: v, text: null };
  if (typeof v === 'boolean') return { type: 'boolean', num: v ? 1 : 0, text: null };
  return { type: 'string', num: null, text: v };
}

/** SQLite store (better-sqlite3). WAL + busy timeout so a reader never blocks a running sweep. */
export class SqliteStore implements RunStore {
  readonly db: Database.Database;
  readonly path: string;

  private constructor(db: Database.Database, path: string) {
    this.db = db;
    this.path = path;
  }

  /** Opens (creating and migrating) a database for writing. */
  static open(path: string): SqliteStore {
    const db = open(path, false);
    migrate(db, path);
    return new SqliteStore(db, path);
  }

  /** Opens an existing database read-only (reports); a missing file is a ConfigError. */
  static openReadOnly(path: string): SqliteStore {
    return new SqliteStore(open(path, true), path);
  }

  ensureExperiment(name: string, description: string): number {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT id FROM experiments WHERE name = ?').get(name) as { id: number } | undefined;
      if (row) {
        this.db.prepare('UPDATE experiments SET description = ? WHERE id = ?').run(description, row.id);
        return row.id;
      }
      return Number(this.db.prepare('INSERT INTO experiments (name, description, created_at) VALUES (?, ?, ?)').run(name, description, now()).lastInsertRowid);
    }).immediate();
  }

  createRun(run: NewRun): string {
    const id = randomUUID().replace(/-/g, '');
    this.db
      .prepare(`INSERT INTO runs (id, experiment_id, trial_id, sweep, label, is_baseline, status, seed, backend, config_json, started_at)
                VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?)`)
      .run(id, run.experimentId, run.trialId, run.sweep, run.label, run.isBaseline ? 1 : 0, run.seed, run.backend, JSON.stringify(run.config), now());
    return id;
  }

  logBatch(runId: string, batch: { params?: Record<string, ParamValue>; metrics?: MetricInput[] }): void {
    const t = now();
    const insertParam = this.db.prepare('INSERT OR REPLACE INTO params (run_id, key, type, value_num, value_text) VALUES (?, ?, ?, ?, ?)');
    const insertMetric = this.db.prepare('INSERT OR REPLACE INTO metrics (run_id, key, value, step, time) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(batch.params ?? {})) {
        const r = paramRow(v);
        insertParam.run(runId, k, r.type, r.num, r.text);
      }
      for (const m of batch.metrics ?? []) insertMetric.run(runId, m.key, m.value, m.step ?? 0, t);
    })();
  }

  setStatus(runId: string, status: RunStatus, error?: string): void {
    const ended = status === 'RUNNING' || status === 'SCHEDULED' ? null : now();
    this.db.prepare('UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?').run(status, error ?? null, ended, runId);
  }

  logArtifact(runId: string, a: { kind: string; path: string; bytes: number }): void {
    this.db.prepare('INSERT OR REPLACE INTO artifacts (run_id, kind, path, bytes) VALUES (?, ?, ?, ?)').run(runId, a.kind, a.path, a.bytes);
  }

  finishRun(runId: string, batch: { params?: Record<string, ParamValue>; metrics?: MetricInput[]; artifacts?: Array<{ kind: string; path: string; bytes: number }> }): void {
    this.db.transaction(() => {
      this.logBatch(runId, batch);
      for (const a of batch.artifacts ?? []) this.logArtifact(runId, a);
      this.setStatus(runId, 'FINISHED');
    })();
  }

  /** `only` restricts which params and metrics are loaded (a table over 100,000 runs needs a few). */
  listRuns(experiment: string, only?: { params?: string[]; metrics?: string[] }): RunView[] {
    return this.views(`e.name = ?`, [experiment], 'r.is_baseline DESC, r.started_at, r.rowid', undefined, only);
  }

  /** One run by id or unique id prefix (as `squash show` takes it). */
  getRun(idOrPrefix: string): RunView {
    const found = this.views('r.id LIKE ?', [`${idOrPrefix.replace(/[%_]/g, '')}%`], 'r.rowid', 2);
    if (found.length === 1) return found[0]!;
    throw new ConfigError(found.length ? `run id '${idOrPrefix}' is ambiguous; give more characters` : `no run with id '${idOrPrefix}'`);
  }

  /** Every run of a trial (id or prefix) in any experiment, oldest first: its history. */
  runsOfTrial(trialIdOrPrefix: string): RunView[] {
    return this.views('r.trial_id LIKE ?', [`${trialIdOrPrefix.replace(/[%_]/g, '')}%`], 'r.started_at, r.rowid');
  }

  /** Runs by id, in the given order (for query results). */
  runsById(ids: string[]): RunView[] {
    const byId = new Map<string, RunView>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      for (const v of this.views(`r.id IN (${chunk.map(() => '?').join(',')})`, chunk, 'r.rowid')) byId.set(v.id, v);
    }
    return ids.map((id) => byId.get(id)).filter((v): v is RunView => v !== undefined);
  }

  /** Per experiment: sweeps recorded and runs per status (`squash ls`). */
  statusCounts(): Array<{ experiment: string; sweeps: number; status: RunStatus | null; runs: number; last: string | null }> {
    return this.db
      .prepare(`SELECT e.name AS experiment, (SELECT COUNT(*) FROM sweeps s WHERE s.experiment_id = e.id) AS sweeps,
                       r.status AS status, COUNT(r.id) AS runs, MAX(r.started_at) AS last
                FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id, r.status ORDER BY e.name`)
      .all() as Array<{ experiment: string; sweeps: number; status: RunStatus | null; runs: number; last: string | null }>;
  }

  /** Host, pid, attempt, version: what `show` and `history` print beside the view. */
  runDetails(runId: string): { attempt: number; host: string | null; pid: number | null; squashVersion: string | null; heartbeatAt: string | null } {
    const r = this.db.prepare('SELECT attempt, host, pid, squash_version, heartbeat_at FROM runs WHERE id = ?').get(runId) as
      { attempt: number; host: string | null; pid: number | null; squash_version: string | null; heartbeat_at: string | null };
    return { attempt: r.attempt, host: r.host, pid: r.pid, squashVersion: r.squash_version, heartbeatAt: r.heartbeat_at };
  }

  /**
   * Runs matching `where` with their params, metrics, artifacts and tags: five queries in all,
   * grouped in memory, so a report over 100,000 runs does not issue 400,000 lookups.
   */
  private views(where: string, args: unknown[], orderBy: string, limit?: number, only?: { params?: string[]; metrics?: string[] }): RunView[] {
    const from = 'FROM runs r JOIN experiments e ON e.id = r.experiment_id';
    const rows = this.db
      // Named columns, not r.*: config_json is large and a view does not need it.
      .prepare(`SELECT r.id, r.trial_id, r.sweep, r.label, r.is_baseline, r.status, r.seed, r.backend, r.started_at, r.ended_at, r.error,
                       e.name AS experiment ${from} WHERE ${where} ORDER BY ${orderBy}${limit ? ` LIMIT ${limit}` : ''}`)
      .all(...args) as Array<Record<string, unknown>>;
    if (!rows.length) return [];
    const scope = limit ? `x.run_id IN (${rows.map(() => '?').join(',')})` : `x.run_id IN (SELECT r.id ${from} WHERE ${where})`;
    const scopeArgs = limit ? rows.map((r) => r.id) : args;
    const keysIn = (keys: string[] | undefined) => (keys ? ` AND x.key IN (${keys.map(() => '?').join(',') || "''"})` : '');
    const grouped = <T extends { run_id: string }>(sql: string, keys?: string[]) => {
      const out = new Map<string, T[]>();
      for (const row of this.db.prepare(sql).all(...(keys ?? []), ...scopeArgs) as T[]) {
        const list = out.get(row.run_id);
        if (list) list.push(row);
        else out.set(row.run_id, [row]);
      }
      return out;
    };
    const params = grouped<{ run_id: string; key: string; type: string; value_num: number | null; value_text: string | null }>(
      `SELECT x.run_id, x.key, x.type, x.value_num, x.value_text FROM params x WHERE 1${keysIn(only?.params)} AND ${scope}`, only?.params);
    const metrics = grouped<{ run_id: string; key: string; value: number }>(
      `SELECT x.run_id, x.key, x.value FROM metrics x WHERE x.step = 0${keysIn(only?.metrics)} AND ${scope}`, only?.metrics);
    const artifacts = grouped<{ run_id: string; kind: string; path: string; bytes: number }>(`SELECT x.run_id, x.kind, x.path, x.bytes FROM artifacts x WHERE ${scope}`);
    const tags = grouped<{ run_id: string; key: string; value: string }>(`SELECT x.run_id, x.key, x.value FROM tags x WHERE ${scope}`);
    return rows.map((r) => {
      const id = r.id as string;
      return {
        id,
        experiment: r.experiment as string,
        trialId: r.trial_id as string,
        sweep: r.sweep as string,
        label: r.label as string,
        isBaseline: r.is_baseline === 1,
        status: r.status as RunStatus,
        seed: r.seed as number,
        backend: r.backend as string | null,
        startedAt: r.started_at as string | null,
        endedAt: r.ended_at as string | null,
        error: r.error as string | null,
        params: Object.fromEntries((params.get(id) ?? []).map((p) => [p.key, p.type === 'number' ? p.value_num! : p.type === 'boolean' ? p.value_num === 1 : p.value_text!])),
        metrics: Object.fromEntries((metrics.get(id) ?? []).map((m) => [m.key, m.value])),
        artifacts: Object.fromEntries((artifacts.get(id) ?? []).map((a) => [a.kind, { path: a.path, bytes: a.bytes }])),
        tags: Object.fromEntries((tags.get(id) ?? []).map((t) => [t.key, t.value])),
      };
    });
  }

  experiments(): Array<{ name: string; description: string; runs: number }> {
    return this.db
      .prepare('SELECT e.name, e.description, COUNT(r.id) AS runs FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id ORDER BY e.name')
      .all() as Array<{ name: string; description: string; runs: number }>;
  }

  claimRun(req: ClaimRequest, w: WorkerIdentity): ClaimResult {
    return this.db.transaction((): ClaimResult => {
      const rows = this.db
        .prepare('SELECT id, status, host, pid, invocation, heartbeat_at FROM runs WHERE experiment_id = ? AND trial_id = ? ORDER BY rowid')
        .all(req.experimentId, req.trialId) as Array<{ id: string; status: RunStatus; host: string | null; pid: number | null; invocation: string | null; heartbeat_at: string | null }>;
      if (rows.some((r) => r.invocation === w.invocation)) return { claimed: false, reason: 'attempted' };
      if (!req.force && rows.some((r) => r.status === 'FINISHED')) return { claimed: false, reason: 'finished' };
      for (const r of rows.filter((x) => x.status === 'RUNNING')) {
        if (isAlive(r, w.host)) return { claimed: false, reason: 'running' };
        this.db.prepare("UPDATE runs SET status = 'KILLED', ended_at = ?, error = ? WHERE id = ?")
          .run(now(), `process ${r.pid ?? '?'} on ${r.host ?? '?'} stopped without finishing (no heartbeat since ${r.heartbeat_at ?? 'start'})`, r.id);
      }
      const id = randomUUID().replace(/-/g, '');
      const t = now();
      this.db
        .prepare(`INSERT INTO runs (id, experiment_id, trial_id, sweep, label, is_baseline, status, seed, backend, config_json, started_at,
                                    sweep_id, attempt, host, pid, invocation, squash_version, heartbeat_at)
                  VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(id, req.experimentId, req.trialId, req.sweep, req.label, req.isBaseline ? 1 : 0, req.seed, w.backend, JSON.stringify(req.config), t,
          req.sweepId ?? null, rows.length + 1, w.host, w.pid, w.invocation, w.version, t);
      return { claimed: true, runId: id, attempt: rows.length + 1 };
    }).immediate();
  }

  setTags(runId: string, tags: Record<string, string>): void {
    const stmt = this.db.prepare('INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)');
    this.db.transaction(() => Object.entries(tags).forEach(([k, v]) => stmt.run(runId, k, v)))();
  }

  invocationFailed(invocation: string): boolean {
    return this.db.prepare("SELECT 1 FROM runs WHERE invocation = ? AND status = 'FAILED' LIMIT 1").get(invocation) !== undefined;
  }

  heartbeat(runIds: string[]): void {
    if (!runIds.length) return;
    const stmt = this.db.prepare("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'RUNNING'");
    const t = now();
    this.db.transaction(() => runIds.forEach((id) => stmt.run(t, id)))();
  }

  recordSweep(experimentId: number, text: string, file: string | undefined): number {
    const hash = stableHash(text, 16);
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT id FROM sweeps WHERE experiment_id = ? AND spec_hash = ?').get(experimentId, hash) as { id: number } | undefined;
      if (row) return row.id;
      return Number(this.db.prepare('INSERT INTO sweeps (experiment_id, spec_hash, spec_text, file, squash_version, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(experimentId, hash, text, file ?? null, SQUASH_VERSION, now()).lastInsertRowid);
    }).immediate();
  }

  latestByTrial(experiment: string): Map<string, { status: RunStatus; attempt: number; runId: string }> {
    const rows = this.db
      .prepare(`SELECT r.trial_id, r.status, r.attempt, r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id
                WHERE e.name = ? ORDER BY r.rowid`)
      .all(experiment) as Array<{ trial_id: string; status: RunStatus; attempt: number; id: string }>;
    const out = new Map<string, { status: RunStatus; attempt: number; runId: string }>();
    // A FINISHED run stays the answer even if a later attempt (a --force rerun) failed.
    for (const r of rows) if (out.get(r.trial_id)?.status !== 'FINISHED' || r.status === 'FINISHED') out.set(r.trial_id, { status: r.status, attempt: r.attempt, runId: r.id });
    return out;
  }

  close(): void {
    this.db.close();
  }
}
