import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, SQUASH_VERSION, stableHash, type ParamValue } from '@squash/core';
import { MIGRATIONS } from './migrations.js';
import { refreshViews, type StoredView } from './run_view.js';
import type {
  ClaimRequest,
  ClaimResult,
  MetricInput,
  NewRun,
  RunHeads,
  RunStatus,
  RunStore,
  RunView,
  WorkerIdentity,
} from './types.js';

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
  // Readers map the file instead of copying pages through read(): a report scanning 100,000 runs
  // spent half its time in the kernel copying pages.
  if (readonly) db.pragma('mmap_size = 1073741824');
  db.pragma('foreign_keys = ON');
  if (!readonly) db.pragma('journal_mode = WAL');
  return db;
}

function pendingMigrations(db: Database.Database, path: string): string[] {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_squash_migrations'").get()) {
    const empty = !db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table'").get();
    db.close();
    throw new ConfigError(
      empty
        ? 'empty database (a squash run may be creating it; try again)'
        : 'not a Squash database (no _squash_migrations table)',
      { location: { file: path } },
    );
  }
  const applied = new Set(
    (db.prepare('SELECT name FROM _squash_migrations').all() as Array<{ name: string }>).map((r) => r.name),
  );
  return MIGRATIONS.map((m) => m.name).filter((n) => !applied.has(n));
}

function migrate(db: Database.Database, path: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS _squash_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT name FROM _squash_migrations').all() as Array<{ name: string }>).map((r) => r.name),
  );
  const known = new Set(MIGRATIONS.map((m) => m.name));
  const unknown = [...applied].filter((n) => !known.has(n));
  if (unknown.length) {
    throw new ConfigError(
      `database was written by a newer Squash (migrations ${unknown.join(', ')}); upgrade Squash to open it`,
      { location: { file: path } },
    );
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.name)) continue;
    db.transaction(() => {
      // Another process (a second runner, a reader upgrading the file) may have applied it since.
      if (db.prepare('SELECT 1 FROM _squash_migrations WHERE name = ?').get(m.name)) return;
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
    const db = open(path, true);
    if (!pendingMigrations(db, path).length) return new SqliteStore(db, path);
    // Written by an older Squash: upgrade the schema once (readers need its columns), then read.
    db.close();
    SqliteStore.open(path).close();
    return new SqliteStore(open(path, true), path);
  }

  ensureExperiment(name: string, description: string): number {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT id FROM experiments WHERE name = ?').get(name) as
          | { id: number }
          | undefined;
        if (row) {
          this.db.prepare('UPDATE experiments SET description = ? WHERE id = ?').run(description, row.id);
          return row.id;
        }
        return Number(
          this.db
            .prepare('INSERT INTO experiments (name, description, created_at) VALUES (?, ?, ?)')
            .run(name, description, now()).lastInsertRowid,
        );
      })
      .immediate();
  }

  createRun(run: NewRun): string {
    const id = randomUUID().replace(/-/g, '');
    this.db
      .prepare(`INSERT INTO runs (id, experiment_id, trial_id, sweep, label, is_baseline, status, seed, backend, config_json, started_at)
                VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?)`)
      .run(
        id,
        run.experimentId,
        run.trialId,
        run.sweep,
        run.label,
        run.isBaseline ? 1 : 0,
        run.seed,
        run.backend,
        JSON.stringify(run.config),
        now(),
      );
    this.refresh(id);
    return id;
  }

  logBatch(runId: string, batch: { params?: Record<string, ParamValue>; metrics?: MetricInput[] }): void {
    this.db.transaction(() => {
      this.writeBatch(runId, batch);
      this.refresh(runId);
    })();
  }

  setStatus(runId: string, status: RunStatus, error?: string): void {
    this.db.transaction(() => {
      this.writeStatus(runId, status, error);
      this.refresh(runId);
    })();
  }

  logArtifact(runId: string, a: { kind: string; path: string; bytes: number }): void {
    this.db.transaction(() => {
      this.writeArtifact(runId, a);
      this.refresh(runId);
    })();
  }

  // The writers below leave `view_json` to their caller, which refreshes it once per transaction.

  private writeBatch(runId: string, batch: { params?: Record<string, ParamValue>; metrics?: MetricInput[] }): void {
    const t = now();
    const insertParam = this.db.prepare(
      'INSERT OR REPLACE INTO params (run_id, key, type, value_num, value_text) VALUES (?, ?, ?, ?, ?)',
    );
    const insertMetric = this.db.prepare(
      'INSERT OR REPLACE INTO metrics (run_id, key, value, step, time) VALUES (?, ?, ?, ?, ?)',
    );
    for (const [k, v] of Object.entries(batch.params ?? {})) {
      const r = paramRow(v);
      insertParam.run(runId, k, r.type, r.num, r.text);
    }
    for (const m of batch.metrics ?? []) insertMetric.run(runId, m.key, m.value, m.step ?? 0, t);
  }

  private writeStatus(runId: string, status: RunStatus, error?: string): void {
    const ended = status === 'RUNNING' || status === 'SCHEDULED' ? null : now();
    this.db
      .prepare('UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?')
      .run(status, error ?? null, ended, runId);
  }

  private writeArtifact(runId: string, a: { kind: string; path: string; bytes: number }): void {
    this.db
      .prepare('INSERT OR REPLACE INTO artifacts (run_id, kind, path, bytes) VALUES (?, ?, ?, ?)')
      .run(runId, a.kind, a.path, a.bytes);
  }

  /** Recomputes every run's `view_json` from the tables (after rows were written by plain SQL). */
  rebuildViews(): void {
    this.db.transaction(() => refreshViews(this.db, '1', []))();
  }

  /** Every write to a run ends here, inside its transaction: `view_json` always matches the tables. */
  private refresh(runId: string): void {
    refreshViews(this.db, 'r.id = ?', [runId]);
  }

  finishRun(
    runId: string,
    batch: {
      params?: Record<string, ParamValue>;
      metrics?: MetricInput[];
      artifacts?: Array<{ kind: string; path: string; bytes: number }>;
    },
  ): void {
    this.db.transaction(() => {
      this.writeBatch(runId, batch);
      for (const a of batch.artifacts ?? []) this.writeArtifact(runId, a);
      this.writeStatus(runId, 'FINISHED');
      this.refresh(runId);
    })();
  }

  /** The experiment's runs, baselines first, then in the order they were claimed. */
  listRuns(experiment: string): RunView[] {
    const views = this.views('e.name = ?', [experiment], 'r.rowid');
    // A stable partition, not ORDER BY: the index already yields claim order, a sort would redo it.
    return [...views.filter((v) => v.isBaseline), ...views.filter((v) => !v.isBaseline)];
  }

  /**
   * The experiment's runs in `listRuns` order with only the named final metrics: what choosing a
   * report's rows needs, read without building 100,000 full views (metrics come out of the JSONB
   * view in SQLite; the only string per run is its trial id).
   */
  listRunHeads(experiment: string, metricKeys: readonly string[]): RunHeads {
    const picks = metricKeys.map(() => ', r.view_json ->> ?').join('');
    const count = this.db
      .prepare('SELECT COUNT(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ?')
      .pluck()
      .get(experiment) as number;
    const heads: RunHeads = {
      length: 0,
      rowids: new Float64Array(count),
      trialIds: [],
      isBaseline: new Uint8Array(count),
      finished: new Uint8Array(count),
      seeds: new Float64Array(count),
      metrics: Object.fromEntries(metricKeys.map((k) => [k, new Float64Array(count).fill(NaN)])),
    };
    const columns = metricKeys.map((k) => heads.metrics[k]!);
    // JSON paths quote the key: metric names contain dots and slashes (layer.dense_1/kernel.kept).
    const paths = metricKeys.map((k) => `$.metrics.${JSON.stringify(k)}`);
    for (const baseline of [1, 0]) {
      const stmt = this.db
        .prepare(`SELECT r.rowid, r.trial_id, r.status = 'FINISHED', r.seed${picks}
        FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ? AND r.is_baseline = ? ORDER BY r.rowid`)
        .raw();
      // iterate, not all(): each row array dies young instead of 100,000 of them living at once.
      for (const row of stmt.iterate(...paths, experiment, baseline) as Iterable<unknown[]>) {
        const i = heads.length++;
        if (i >= count) break; // a run claimed between the count and this read waits for the next report
        heads.rowids[i] = row[0] as number;
        heads.trialIds.push(row[1] as string);
        heads.isBaseline[i] = baseline;
        heads.finished[i] = row[2] as number;
        heads.seeds[i] = row[3] as number;
        for (let k = 0; k < columns.length; k++)
          if (typeof row[4 + k] === 'number') columns[k]![i] = row[4 + k] as number;
      }
    }
    heads.length = Math.min(heads.length, count);
    return heads;
  }

  /** The backends an experiment's runs used (a report's title). */
  experimentBackends(experiment: string): string[] {
    return this.db
      .prepare(
        'SELECT DISTINCT r.backend FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ? AND r.backend IS NOT NULL ORDER BY r.backend',
      )
      .pluck()
      .all(experiment) as string[];
  }

  /** Full views of runs given by rowid (from `listRunHeads`), in the given order. */
  runsByRowid(rowids: number[]): RunView[] {
    return this.viewsByKey('rowid', rowids);
  }

  /** Views of the runs whose `column` is in `keys`, in the order of `keys` (missing ones left out). */
  private viewsByKey<K extends string | number>(column: 'id' | 'rowid', keys: K[]): RunView[] {
    const found = new Map<K, RunView>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const rows = this.db
        .prepare(
          `SELECT r.${column}, e.name, json(r.view_json) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.${column} IN (${chunk.map(() => '?').join(',')})`,
        )
        .raw()
        .all(...chunk) as Array<[K, string, string]>;
      for (const [key, experiment, json] of rows) found.set(key, { experiment, ...(JSON.parse(json) as StoredView) });
    }
    return keys.flatMap((k) => (found.has(k) ? [found.get(k)!] : []));
  }

  /** One run by id or unique id prefix (as `squash show` takes it). */
  getRun(idOrPrefix: string): RunView {
    const found = this.views('r.id LIKE ?', [`${idOrPrefix.replace(/[%_]/g, '')}%`], 'r.rowid', 2);
    if (found.length === 1) return found[0]!;
    throw new ConfigError(
      found.length ? `run id '${idOrPrefix}' is ambiguous; give more characters` : `no run with id '${idOrPrefix}'`,
    );
  }

  /** Every run of a trial (id or prefix) in any experiment, oldest first: its history. */
  runsOfTrial(trialIdOrPrefix: string): RunView[] {
    return this.views('r.trial_id LIKE ?', [`${trialIdOrPrefix.replace(/[%_]/g, '')}%`], 'r.rowid');
  }

  /** Runs by id, in the given order (for query results). */
  runsById(ids: string[]): RunView[] {
    return this.viewsByKey('id', ids);
  }

  /** Per experiment: sweeps recorded and runs per status (`squash ls`). */
  statusCounts(): Array<{
    experiment: string;
    sweeps: number;
    status: RunStatus | null;
    runs: number;
    last: string | null;
  }> {
    return this.db
      .prepare(`SELECT e.name AS experiment, (SELECT COUNT(*) FROM sweeps s WHERE s.experiment_id = e.id) AS sweeps,
                       r.status AS status, COUNT(r.id) AS runs, MAX(r.started_at) AS last
                FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id, r.status ORDER BY e.name`)
      .all() as Array<{
      experiment: string;
      sweeps: number;
      status: RunStatus | null;
      runs: number;
      last: string | null;
    }>;
  }

  /** Host, pid and last heartbeat: what `show` prints beside the view. */
  runDetails(runId: string): { host: string | null; pid: number | null; heartbeatAt: string | null } {
    const r = this.db.prepare('SELECT host, pid, heartbeat_at FROM runs WHERE id = ?').get(runId) as {
      host: string | null;
      pid: number | null;
      heartbeat_at: string | null;
    };
    return { host: r.host, pid: r.pid, heartbeatAt: r.heartbeat_at };
  }

  /** Runs matching `where`, each parsed from its `view_json` (kept current by every write). */
  private views(where: string, args: unknown[], orderBy: string, limit?: number): RunView[] {
    const rows = this.db
      .prepare(`SELECT e.name, json(r.view_json) FROM runs r JOIN experiments e ON e.id = r.experiment_id
                WHERE ${where} ORDER BY ${orderBy}${limit ? ` LIMIT ${limit}` : ''}`)
      .raw()
      .all(...args) as Array<[string, string]>;
    return rows.map(([experiment, json]) => ({ experiment, ...(JSON.parse(json) as StoredView) }));
  }

  experiments(): Array<{ name: string; description: string; runs: number }> {
    return this.db
      .prepare(
        'SELECT e.name, e.description, COUNT(r.id) AS runs FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id ORDER BY e.name',
      )
      .all() as Array<{ name: string; description: string; runs: number }>;
  }

  claimRun(req: ClaimRequest, w: WorkerIdentity): ClaimResult {
    return this.db
      .transaction((): ClaimResult => {
        const rows = this.db
          .prepare(
            'SELECT id, status, host, pid, invocation, heartbeat_at FROM runs WHERE experiment_id = ? AND trial_id = ? ORDER BY rowid',
          )
          .all(req.experimentId, req.trialId) as Array<{
          id: string;
          status: RunStatus;
          host: string | null;
          pid: number | null;
          invocation: string | null;
          heartbeat_at: string | null;
        }>;
        if (rows.some((r) => r.invocation === w.invocation)) return { claimed: false, reason: 'attempted' };
        if (!req.force && rows.some((r) => r.status === 'FINISHED')) return { claimed: false, reason: 'finished' };
        for (const r of rows.filter((x) => x.status === 'RUNNING')) {
          if (isAlive(r, w.host)) return { claimed: false, reason: 'running' };
          this.db
            .prepare("UPDATE runs SET status = 'KILLED', ended_at = ?, error = ? WHERE id = ?")
            .run(
              now(),
              `process ${r.pid ?? '?'} on ${r.host ?? '?'} stopped without finishing (no heartbeat since ${r.heartbeat_at ?? 'start'})`,
              r.id,
            );
          this.refresh(r.id);
        }
        const id = randomUUID().replace(/-/g, '');
        const t = now();
        this.db
          .prepare(`INSERT INTO runs (id, experiment_id, trial_id, sweep, label, is_baseline, status, seed, backend, config_json, started_at,
                                    sweep_id, attempt, host, pid, invocation, squash_version, heartbeat_at)
                  VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(
            id,
            req.experimentId,
            req.trialId,
            req.sweep,
            req.label,
            req.isBaseline ? 1 : 0,
            req.seed,
            w.backend,
            JSON.stringify(req.config),
            t,
            req.sweepId ?? null,
            rows.length + 1,
            w.host,
            w.pid,
            w.invocation,
            w.version,
            t,
          );
        this.refresh(id);
        return { claimed: true, runId: id, attempt: rows.length + 1 };
      })
      .immediate();
  }

  setTags(runId: string, tags: Record<string, string>): void {
    const stmt = this.db.prepare('INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      Object.entries(tags).forEach(([k, v]) => stmt.run(runId, k, v));
      this.refresh(runId);
    })();
  }

  invocationFailed(invocation: string): boolean {
    return (
      this.db.prepare("SELECT 1 FROM runs WHERE invocation = ? AND status = 'FAILED' LIMIT 1").get(invocation) !==
      undefined
    );
  }

  heartbeat(runIds: string[]): void {
    if (!runIds.length) return;
    const stmt = this.db.prepare("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'RUNNING'");
    const t = now();
    this.db.transaction(() => runIds.forEach((id) => stmt.run(t, id)))();
  }

  recordSweep(experimentId: number, text: string, file: string | undefined): number {
    const hash = stableHash(text, 16);
    return this.db
      .transaction(() => {
        const row = this.db
          .prepare('SELECT id FROM sweeps WHERE experiment_id = ? AND spec_hash = ?')
          .get(experimentId, hash) as { id: number } | undefined;
        if (row) return row.id;
        return Number(
          this.db
            .prepare(
              'INSERT INTO sweeps (experiment_id, spec_hash, spec_text, file, squash_version, created_at) VALUES (?, ?, ?, ?, ?, ?)',
            )
            .run(experimentId, hash, text, file ?? null, SQUASH_VERSION, now()).lastInsertRowid,
        );
      })
      .immediate();
  }

  latestByTrial(experiment: string): Map<string, { status: RunStatus; attempt: number; runId: string }> {
    const rows = this.db
      .prepare(`SELECT r.trial_id, r.status, r.attempt, r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id
                WHERE e.name = ? ORDER BY r.rowid`)
      .all(experiment) as Array<{ trial_id: string; status: RunStatus; attempt: number; id: string }>;
    const out = new Map<string, { status: RunStatus; attempt: number; runId: string }>();
    // A FINISHED run stays the answer even if a later attempt (a --force rerun) failed.
    for (const r of rows)
      if (out.get(r.trial_id)?.status !== 'FINISHED' || r.status === 'FINISHED')
        out.set(r.trial_id, { status: r.status, attempt: r.attempt, runId: r.id });
    return out;
  }

  close(): void {
    this.db.close();
  }
}
