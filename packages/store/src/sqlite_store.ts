import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { RUN_RECORD_PARAMS } from '@squash/contract';
import { ConfigError, SQUASH_VERSION, StoreError, stableHash, type ParamValue } from '@squash/core';
import { damagedHint, openDatabase, withTransaction } from './db.js';
import { deadRunMessage, isAlive, type Liveness } from './liveness.js';
import { applyMigrations, checkSchema, refuseForeign } from './migrations.js';
import { parseStoredView, refreshRunViews } from './run_view.js';
import { searchRuns, type SearchOptions, type SearchResult } from './search/search.js';
import type {
  ClaimRequest,
  ClaimResult,
  DeadRun,
  NewRun,
  RecordedResult,
  RunArtifact,
  RunBatch,
  RunHeads,
  RunStatus,
  RunStore,
  RunView,
  StatusCount,
  WorkerIdentity,
} from './types.js';

const now = () => new Date().toISOString();

function paramRow(v: ParamValue): { type: string; num: number | null; text: string | null } {
  if (typeof v === 'number') return { type: 'number', num: v, text: null };
  if (typeof v === 'boolean') return { type: 'boolean', num: v ? 1 : 0, text: null };
  return { type: 'string', num: null, text: v };
}

/**
 * A run's configuration as text: sweep, label and params less the run-record ones (the view's
 * params are sorted by key, so equal configurations give equal text).
 */
const CONFIG_SQL = `r.sweep || char(0) || r.label || char(0) || json_remove(r.view_json -> '$.params', ${RUN_RECORD_PARAMS.map(
  (k) => `'$.${JSON.stringify(k)}'`,
).join(', ')})`;

/** `LIKE` prefix of an id as `show` and `history` take it (wildcards in the input are dropped). */
const prefixPattern = (s: string) => `${s.replace(/[%_]/g, '')}%`;

/** SQLite store (better-sqlite3). WAL + busy timeout so a reader never blocks a running sweep. */
export class SqliteStore implements RunStore {
  private readonly conn: Database.Database;
  readonly path: string;
  /** Runs written in the current outermost write; their views are rebuilt once, just before it commits. */
  private touched: Set<string> | undefined;

  private constructor(conn: Database.Database, path: string) {
    this.conn = conn;
    this.path = path;
  }

  /** Opens a database for writing, creating it, and upgrading its schema if it is older (`squash upgrade`). */
  static open(path: string): SqliteStore {
    const conn = openDatabase(path, { readonly: false, accept: refuseForeign });
    try {
      applyMigrations(conn);
    } catch (e) {
      conn.close();
      throw e;
    }
    return new SqliteStore(conn, path);
  }

  /**
   * Upgrades an existing database to this Squash's schema (`squash upgrade`) and returns the names
   * of the migrations it applied (none when it was up to date).
   */
  static upgrade(path: string): string[] {
    const conn = openDatabase(path, { readonly: false, accept: refuseForeign });
    try {
      return applyMigrations(conn);
    } finally {
      conn.close();
    }
  }

  /**
   * Opens an existing database read-only (reports, queries). It never writes, so it never migrates:
   * a file from an older Squash is a StoreError naming the command that upgrades it.
   */
  static openReadOnly(path: string): SqliteStore {
    const conn = openDatabase(path, { readonly: true });
    try {
      checkSchema(conn);
    } catch (e) {
      conn.close();
      throw e;
    }
    return new SqliteStore(conn, path);
  }

  /** Every write runs here: one transaction (a savepoint when nested), views refreshed once at the end. */
  private write<T>(fn: () => T, immediate = false): T {
    return withTransaction(
      this.conn,
      () => {
        if (this.touched) return fn();
        const touched = new Set<string>();
        this.touched = touched;
        try {
          const out = fn();
          refreshRunViews(this.conn, touched);
          return out;
        } finally {
          this.touched = undefined;
        }
      },
      { immediate },
    );
  }

  /** Marks a run whose `view_json` must be rebuilt before the write commits (readers see it current). */
  private touch(runId: string): void {
    this.touched!.add(runId);
  }

  /** Every read runs here: one snapshot, driver errors mapped. */
  private read<T>(fn: () => T): T {
    return withTransaction(this.conn, fn);
  }

  // Primitive writes.

  ensureExperiment(name: string, description: string): number {
    return this.write(() => {
      const row = this.conn.prepare('SELECT id FROM experiments WHERE name = ?').get(name) as
        | { id: number }
        | undefined;
      if (row) {
        this.conn.prepare('UPDATE experiments SET description = ? WHERE id = ?').run(description, row.id);
        return row.id;
      }
      return Number(
        this.conn
          .prepare('INSERT INTO experiments (name, description, created_at) VALUES (?, ?, ?)')
          .run(name, description, now()).lastInsertRowid,
      );
    }, true);
  }

  recordSweep(experimentId: number, text: string, file: string | undefined): number {
    const hash = stableHash(text, 16);
    return this.write(() => {
      const row = this.conn
        .prepare('SELECT id FROM sweeps WHERE experiment_id = ? AND spec_hash = ?')
        .get(experimentId, hash) as { id: number } | undefined;
      if (row) return row.id;
      return Number(
        this.conn
          .prepare(
            'INSERT INTO sweeps (experiment_id, spec_hash, spec_text, file, squash_version, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(experimentId, hash, text, file ?? null, SQUASH_VERSION, now()).lastInsertRowid,
      );
    }, true);
  }

  createRun(run: NewRun): string {
    return this.write(() => {
      const id = randomUUID().replace(/-/g, '');
      const t = now();
      const w = run.worker;
      this.conn
        .prepare(`INSERT INTO runs (id, experiment_id, trial_id, sweep, label, is_baseline, status, seed, backend, config_json,
                                    started_at, sweep_id, attempt, host, pid, invocation, squash_version, heartbeat_at)
                  VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
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
          t,
          run.sweepId ?? null,
          run.attempt ?? 1,
          w?.host ?? null,
          w?.pid ?? null,
          w?.invocation ?? null,
          w?.version ?? null,
          w ? t : null,
        );
      this.touch(id);
      return id;
    });
  }

  logBatch(runId: string, batch: RunBatch): void {
    this.write(() => {
      const t = now();
      const param = this.conn.prepare(
        'INSERT OR REPLACE INTO params (run_id, key, type, value_num, value_text) VALUES (?, ?, ?, ?, ?)',
      );
      const metric = this.conn.prepare(
        'INSERT OR REPLACE INTO metrics (run_id, key, value, step, time) VALUES (?, ?, ?, ?, ?)',
      );
      const tag = this.conn.prepare('INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(batch.params ?? {})) {
        const r = paramRow(v);
        param.run(runId, k, r.type, r.num, r.text);
      }
      for (const m of batch.metrics ?? []) metric.run(runId, m.key, m.value, m.step ?? 0, t);
      for (const [k, v] of Object.entries(batch.tags ?? {})) tag.run(runId, k, v);
      this.touch(runId);
    });
  }

  setStatus(runId: string, status: RunStatus, error?: string): void {
    this.write(() => {
      const ended = status === 'RUNNING' || status === 'SCHEDULED' ? null : now();
      this.conn
        .prepare('UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?')
        .run(status, error ?? null, ended, runId);
      this.touch(runId);
    });
  }

  logArtifact(runId: string, a: RunArtifact): void {
    this.write(() => {
      this.conn
        .prepare('INSERT OR REPLACE INTO artifacts (run_id, kind, path, bytes, sha256) VALUES (?, ?, ?, ?, ?)')
        .run(runId, a.kind, a.path, a.bytes, a.sha256 ?? null);
      this.touch(runId);
    });
  }

  heartbeat(runIds: string[]): void {
    if (!runIds.length) return;
    this.write(() => {
      const stmt = this.conn.prepare("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'RUNNING'");
      const t = now();
      for (const id of runIds) stmt.run(t, id);
    });
  }

  // Built on the primitives.

  setTags(runId: string, tags: Record<string, string>): void {
    this.logBatch(runId, { tags });
  }

  finishRun(runId: string, batch: RunBatch & { artifacts?: RunArtifact[] }): void {
    this.write(() => {
      this.logBatch(runId, batch);
      for (const a of batch.artifacts ?? []) this.logArtifact(runId, a);
      this.setStatus(runId, 'FINISHED');
    });
  }

  claimRun(req: ClaimRequest, w: WorkerIdentity): ClaimResult {
    return this.write((): ClaimResult => {
      const rows = this.conn
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
        this.setStatus(r.id, 'KILLED', deadRunMessage(r));
      }
      const { force: _, ...run } = req;
      const attempt = rows.length + 1;
      const runId = this.createRun({ ...run, backend: w.backend, attempt, worker: w });
      return { claimed: true, runId, attempt };
    }, true);
  }

  recordRun(run: Omit<NewRun, 'attempt'>, result: RecordedResult, key: string): string | undefined {
    return this.write(() => {
      const runs = this.conn
        .prepare('SELECT id FROM runs WHERE experiment_id = ? AND trial_id = ?')
        .pluck()
        .all(run.experimentId, run.trialId) as string[];
      const tagged = this.conn.prepare("SELECT 1 FROM tags WHERE run_id = ? AND key = 'queue.job' AND value = ?");
      if (runs.some((id) => tagged.get(id, key))) return undefined;
      const runId = this.createRun({ ...run, attempt: runs.length + 1 });
      const { status, error, artifacts, ...batch } = result;
      this.logBatch(runId, { ...batch, tags: { ...batch.tags, 'queue.job': key } });
      for (const a of artifacts ?? []) this.logArtifact(runId, a);
      this.setStatus(runId, status, error);
      return runId;
    }, true);
  }

  // Health (`squash doctor`).

  /** RUNNING runs whose process is gone (this host: its pid; elsewhere: a stale heartbeat). */
  deadRuns(host: string = hostname()): DeadRun[] {
    const rows = this.read(
      () =>
        this.conn
          .prepare(
            `SELECT r.id, e.name AS experiment, r.label, r.host, r.pid, r.heartbeat_at FROM runs r
             JOIN experiments e ON e.id = r.experiment_id WHERE r.status = 'RUNNING' ORDER BY r.rowid`,
          )
          .all() as Array<DeadRun & Liveness>,
    );
    return rows
      .filter((r) => !isAlive(r, host))
      .map((r) => ({ id: r.id, experiment: r.experiment, label: r.label, reason: deadRunMessage(r) }));
  }

  /**
   * Marks the given runs KILLED if they are still RUNNING with a dead process (checked again inside
   * the write, so a run that came back to life meanwhile is left alone); returns the ids it marked.
   */
  killDeadRuns(ids: readonly string[], host: string = hostname()): string[] {
    const wanted = new Set(ids);
    return this.write(() => {
      const marked: string[] = [];
      for (const r of this.deadRuns(host))
        if (wanted.has(r.id)) {
          this.setStatus(r.id, 'KILLED', r.reason);
          marked.push(r.id);
        }
      return marked;
    }, true);
  }

  /** Runs whose stored view does not read back (damage inside the file); their tables may still be whole. */
  damagedViews(): string[] {
    return this.read(
      () =>
        this.conn
          .prepare('SELECT id FROM runs WHERE view_json IS NULL OR json_valid(view_json, 8) = 0 ORDER BY rowid')
          .pluck()
          .all() as string[],
    );
  }

  /** Rebuilds the stored views of the given runs from their params, metrics, artifacts and tags. */
  rebuildViews(ids: readonly string[]): void {
    this.write(() => {
      for (const id of ids) this.touch(id);
    });
  }

  // Reads.

  experiments(): Array<{ name: string; description: string; runs: number }> {
    return this.read(
      () =>
        this.conn
          .prepare(
            'SELECT e.name, e.description, COUNT(r.id) AS runs FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id ORDER BY e.name',
          )
          .all() as Array<{ name: string; description: string; runs: number }>,
    );
  }

  listRuns(experiment: string): RunView[] {
    const views = this.views('e.name = ?', [experiment], 'r.rowid');
    // A stable partition, not ORDER BY: the index already yields claim order, a sort would redo it.
    return [...views.filter((v) => v.isBaseline), ...views.filter((v) => !v.isBaseline)];
  }

  /**
   * What choosing a report's rows needs, read without building 100,000 full views (metrics come
   * out of the JSONB view in SQLite; the only string per run is its trial id).
   */
  listRunHeads(experiment: string, metricKeys: readonly string[]): RunHeads {
    return this.read(() => {
      const picks = metricKeys.map(() => ', r.view_json ->> ?').join('');
      const count = this.conn
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
        configs: new Uint32Array(count),
        metrics: Object.fromEntries(metricKeys.map((k) => [k, new Float64Array(count).fill(NaN)])),
      };
      const columns = metricKeys.map((k) => heads.metrics[k]!);
      const configs = new Map<string, number>();
      // JSON paths quote the key: metric names contain dots and slashes (layer.dense_1/kernel.kept).
      const paths = metricKeys.map((k) => `$.metrics.${JSON.stringify(k)}`);
      for (const baseline of [1, 0]) {
        const stmt = this.conn
          .prepare(`SELECT r.rowid, r.trial_id, r.status = 'FINISHED', r.seed, ${CONFIG_SQL}${picks}
          FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ? AND r.is_baseline = ? ORDER BY r.rowid`)
          .raw();
        // iterate, not all(): each row array dies young instead of 100,000 of them living at once.
        for (const row of stmt.iterate(...paths, experiment, baseline) as Iterable<unknown[]>) {
          const i = heads.length++;
          if (i >= count) break; // cannot happen inside one snapshot; kept as a bound on the arrays
          heads.rowids[i] = row[0] as number;
          heads.trialIds.push(row[1] as string);
          heads.isBaseline[i] = baseline;
          heads.finished[i] = row[2] as number;
          heads.seeds[i] = row[3] as number;
          const config = row[4] as string;
          let c = configs.get(config);
          if (c === undefined) configs.set(config, (c = configs.size));
          heads.configs[i] = c;
          for (let k = 0; k < columns.length; k++)
            if (typeof row[5 + k] === 'number') columns[k]![i] = row[5 + k] as number;
        }
      }
      heads.length = Math.min(heads.length, count);
      return heads;
    });
  }

  runsByRowid(rowids: number[]): RunView[] {
    return this.viewsByKey('rowid', rowids);
  }

  runsById(ids: string[]): RunView[] {
    return this.viewsByKey('id', ids);
  }

  getRun(idOrPrefix: string): RunView {
    const found = this.views('r.id LIKE ?', [prefixPattern(idOrPrefix)], 'r.rowid', 2);
    if (found.length === 1) return found[0]!;
    throw new ConfigError(
      found.length ? `run id '${idOrPrefix}' is ambiguous; give more characters` : `no run with id '${idOrPrefix}'`,
    );
  }

  runsOfTrial(trialIdOrPrefix: string): RunView[] {
    return this.views('r.trial_id LIKE ?', [prefixPattern(trialIdOrPrefix)], 'r.rowid');
  }

  latestByTrial(experiment: string): Map<string, { status: RunStatus; attempt: number; runId: string }> {
    const rows = this.read(
      () =>
        this.conn
          .prepare(`SELECT r.trial_id, r.status, r.attempt, r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id
                    WHERE e.name = ? ORDER BY r.rowid`)
          .all(experiment) as Array<{ trial_id: string; status: RunStatus; attempt: number; id: string }>,
    );
    const out = new Map<string, { status: RunStatus; attempt: number; runId: string }>();
    // A FINISHED run stays the answer even if a later attempt (a --force rerun) failed.
    for (const r of rows)
      if (out.get(r.trial_id)?.status !== 'FINISHED' || r.status === 'FINISHED')
        out.set(r.trial_id, { status: r.status, attempt: r.attempt, runId: r.id });
    return out;
  }

  latestSweepText(experiment: string, containing?: string): string | undefined {
    return this.read(
      () =>
        this.conn
          .prepare(
            `SELECT s.spec_text FROM sweeps s JOIN experiments e ON e.id = s.experiment_id WHERE e.name = ? AND instr(s.spec_text, ?) > 0 ORDER BY s.id DESC LIMIT 1`,
          )
          .pluck()
          .get(experiment, containing ?? '') as string | undefined,
    );
  }

  experimentBackends(experiment: string): string[] {
    return this.read(
      () =>
        this.conn
          .prepare(
            'SELECT DISTINCT r.backend FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ? AND r.backend IS NOT NULL ORDER BY r.backend',
          )
          .pluck()
          .all(experiment) as string[],
    );
  }

  statusCounts(): StatusCount[] {
    return this.read(
      () =>
        this.conn
          .prepare(`SELECT e.name AS experiment, (SELECT COUNT(*) FROM sweeps s WHERE s.experiment_id = e.id) AS sweeps,
                           r.status AS status, COUNT(r.id) AS runs, MAX(r.started_at) AS last
                    FROM experiments e LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id, r.status ORDER BY e.name`)
          .all() as StatusCount[],
    );
  }

  runDetails(runId: string): { host: string | null; pid: number | null; heartbeatAt: string | null } {
    const r = this.read(
      () =>
        this.conn.prepare('SELECT host, pid, heartbeat_at FROM runs WHERE id = ?').get(runId) as
          | { host: string | null; pid: number | null; heartbeat_at: string | null }
          | undefined,
    );
    if (!r) throw new ConfigError(`no run with id '${runId}'`);
    return { host: r.host, pid: r.pid, heartbeatAt: r.heartbeat_at };
  }

  runConfig(runId: string): { config: unknown; experimentFile: string | null } {
    const r = this.read(
      () =>
        this.conn
          .prepare('SELECT r.config_json, s.file FROM runs r LEFT JOIN sweeps s ON s.id = r.sweep_id WHERE r.id = ?')
          .get(runId) as { config_json: string; file: string | null } | undefined,
    );
    if (!r) throw new ConfigError(`no run with id '${runId}'`);
    let config: unknown;
    try {
      config = JSON.parse(r.config_json);
    } catch (e) {
      throw new StoreError(`the configuration of run ${runId} does not read back (not valid JSON)`, {
        location: { file: this.path },
        hint: damagedHint(this.path),
        cause: e,
      });
    }
    return { config, experimentFile: r.file };
  }

  invocationFailed(invocation: string): boolean {
    return this.read(
      () =>
        this.conn.prepare("SELECT 1 FROM runs WHERE invocation = ? AND status = 'FAILED' LIMIT 1").get(invocation) !==
        undefined,
    );
  }

  /**
   * Whether any run (of `experiment`, when given) has this metric (at any step), param or tag: a
   * filter naming a key no run has is a typo more often than a question (`squash query`).
   */
  hasKey(kind: 'metrics' | 'params' | 'tags', key: string, experiment?: string): boolean {
    const scope = experiment
      ? ' AND x.run_id IN (SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = ?)'
      : '';
    return this.read(
      () =>
        this.conn
          .prepare(`SELECT 1 FROM ${kind} x WHERE x.key = ?${scope} LIMIT 1`)
          .get(...(experiment ? [key, experiment] : [key])) !== undefined,
    );
  }

  /** Every distinct metric, param or tag key in the database, sorted: one index probe per key, not a scan. */
  keys(kind: 'metrics' | 'params' | 'tags'): string[] {
    return this.read(
      () =>
        this.conn
          .prepare(
            `WITH RECURSIVE k(key) AS (SELECT MIN(key) FROM ${kind}
               UNION ALL SELECT (SELECT MIN(key) FROM ${kind} WHERE key > k.key) FROM k WHERE k.key IS NOT NULL)
             SELECT key FROM k WHERE key IS NOT NULL`,
          )
          .pluck()
          .all() as string[],
    );
  }

  searchRuns(filter: string, options: SearchOptions = {}): SearchResult {
    return this.read(() => searchRuns(this.conn, filter, options));
  }

  close(): void {
    this.conn.close();
  }

  /** Runs matching `where`, each parsed from its `view_json` (kept current by every write). */
  private views(where: string, args: unknown[], orderBy: string, limit?: number): RunView[] {
    const rows = this.read(
      () =>
        this.conn
          .prepare(`SELECT e.name, json(r.view_json) FROM runs r JOIN experiments e ON e.id = r.experiment_id
                    WHERE ${where} ORDER BY ${orderBy}${limit ? ` LIMIT ${limit}` : ''}`)
          .raw()
          .all(...args) as Array<[string, string]>,
    );
    return rows.map(([experiment, json]) => ({ experiment, ...parseStoredView(json, this.path) }));
  }

  /** Views of the runs whose `column` is in `keys`, in the order of `keys` (missing ones left out). */
  private viewsByKey<K extends string | number>(column: 'id' | 'rowid', keys: K[]): RunView[] {
    const found = new Map<K, RunView>();
    this.read(() => {
      for (let i = 0; i < keys.length; i += 500) {
        const chunk = keys.slice(i, i + 500);
        const rows = this.conn
          .prepare(
            `SELECT r.${column}, e.name, json(r.view_json) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.${column} IN (${chunk.map(() => '?').join(',')})`,
          )
          .raw()
          .all(...chunk) as Array<[K, string, string]>;
        for (const [key, experiment, json] of rows) found.set(key, { experiment, ...parseStoredView(json, this.path) });
      }
    });
    return keys.flatMap((k) => (found.has(k) ? [found.get(k)!] : []));
  }
}
