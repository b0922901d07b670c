import { existsSync } from 'node:fs';
import { ConfigError } from '@squash/core';
import { defaultPaths, SqliteStore, type RunView } from '@squash/store';
import { queryRuns, type Table } from '@squash/reporter';
import type { ParsedArgs } from '../cli.js';
import { checkFormat, renderAs, type IO } from './report.js';

function openStore(args: ParsedArgs): SqliteStore {
  const { db } = defaultPaths(args.db);
  if (!existsSync(db))
    throw new ConfigError(`no database at ${db}; run an experiment first (squash run <file>) or pass --db`);
  return SqliteStore.openReadOnly(db);
}

function print(args: ParsedArgs, io: IO, ...tables: Table[]): void {
  const format = checkFormat(args.format);
  const width = process.stdout.isTTY ? process.stdout.columns : Infinity;
  io.out(tables.map((t) => renderAs(t, format, width)).join('\n'));
}

const num = (v: unknown) =>
  typeof v === 'number' ? String(Number(v.toPrecision(6))) : v === undefined ? '' : String(v);

/** `squash ls`: experiments, their recorded sweeps and runs per status. */
export async function ls(args: ParsedArgs, io: IO): Promise<number> {
  const store = openStore(args);
  try {
    const byExp = new Map<string, Record<string, string | number>>();
    for (const r of store.statusCounts()) {
      const row = byExp.get(r.experiment) ?? {
        experiment: r.experiment,
        sweeps: r.sweeps,
        runs: 0,
        FINISHED: 0,
        RUNNING: 0,
        FAILED: 0,
        KILLED: 0,
        last: '',
      };
      if (r.status) {
        row[r.status] = r.runs;
        row.runs = (row.runs as number) + r.runs;
      }
      if (r.last && r.last > (row.last as string)) row.last = r.last;
      byExp.set(r.experiment, row);
    }
    print(args, io, {
      title: `${byExp.size} experiments in ${defaultPaths(args.db).db}`,
      columns: ['experiment', 'sweeps', 'runs', 'FINISHED', 'RUNNING', 'FAILED', 'KILLED', 'last'].map((k) => ({
        key: k,
        title: k.toLowerCase(),
        align: k === 'experiment' || k === 'last' ? 'left' : 'right',
      })),
      rows: [...byExp.values()],
    });
  } finally {
    store.close();
  }
  return 0;
}

function keyValues(title: string, entries: Array<[string, unknown]>): Table {
  return {
    title,
    columns: [
      { key: 'key', title: 'key', align: 'left' },
      { key: 'value', title: 'value', align: 'left' },
    ],
    rows: entries.map(([key, v]) => ({ key, value: num(v) })),
  };
}

/** Per-tensor sizes from `layer.<tensor>.<what>` metrics. */
function layerTable(run: RunView): Table | undefined {
  const layers = new Map<string, Record<string, string | number>>();
  for (const [k, v] of Object.entries(run.metrics)) {
    const m = /^layer\.(.+)\.([a-z_]+)$/.exec(k);
    if (!m) continue;
    const row = layers.get(m[1]!) ?? { tensor: m[1]! };
    row[m[2]!] = v;
    layers.set(m[1]!, row);
  }
  if (!layers.size) return undefined;
  const keys = [
    'kept',
    'total',
    'bits',
    'index_bits',
    'dense_bytes',
    'sparse_bytes',
    'quantized_bytes',
    'huffman_bytes',
    'artifact_bytes',
  ];
  return {
    title: 'per-tensor sizes (bytes of real encodings)',
    columns: [
      { key: 'tensor', title: 'tensor', align: 'left' },
      ...keys.map((k) => ({ key: k, title: k, align: 'right' as const })),
    ],
    rows: [...layers.values()],
  };
}

/** `squash show <run>`: everything about one run. */
export async function show(args: ParsedArgs, io: IO): Promise<number> {
  const store = openStore(args);
  try {
    const run = store.getRun(args.target!);
    const d = store.runDetails(run.id);
    const attrs: Array<[string, unknown]> = [
      ['run', run.id],
      ['experiment', run.experiment],
      ['sweep', run.sweep],
      ['trial', run.label],
      ['trial id', run.trialId],
      ['status', run.status],
      ['attempt', run.attempt],
      ['seed', run.seed],
      ['backend', run.backend],
      ['squash version', run.squashVersion],
      ['host', d.host],
      ['pid', d.pid],
      ['started', run.startedAt],
      ['ended', run.endedAt],
      ...Object.entries(run.artifacts).map(([k, a]): [string, unknown] => [
        `artifact (${k})`,
        `${a.path} (${a.bytes} bytes)`,
      ]),
      ...Object.entries(run.tags).map(([k, v]): [string, unknown] => [`tag ${k}`, v]),
      ...(run.error ? [['error', run.error.split('\n')[0]] as [string, unknown]] : []),
    ];
    const tables = [
      keyValues(`run ${run.id}`, attrs),
      keyValues('params', Object.entries(run.params).sort()),
      keyValues(
        'metrics',
        Object.entries(run.metrics)
          .filter(([k]) => !k.startsWith('layer.'))
          .sort(),
      ),
    ];
    const layers = layerTable(run);
    print(args, io, ...(layers ? [...tables, layers] : tables));
  } finally {
    store.close();
  }
  return 0;
}

/** `squash compare <run> <run>`: params that differ and every metric, side by side. */
export async function compare(args: ParsedArgs, io: IO): Promise<number> {
  if (!args.second) throw new ConfigError("'squash compare' needs two run ids; see squash --help");
  const store = openStore(args);
  try {
    const a = store.getRun(args.target!);
    const b = store.getRun(args.second);
    const keys = (x: Record<string, unknown>, y: Record<string, unknown>) =>
      [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
    const paramRows = keys(a.params, b.params)
      .filter((k) => a.params[k] !== b.params[k])
      .map((k) => ({ key: k, a: num(a.params[k]), b: num(b.params[k]), diff: '' }));
    const metricRows = keys(a.metrics, b.metrics)
      .filter((k) => !k.startsWith('layer.'))
      .map((k) => {
        const x = a.metrics[k],
          y = b.metrics[k];
        return { key: k, a: num(x), b: num(y), diff: x !== undefined && y !== undefined ? num(y - x) : '' };
      });
    const cols = [
      { key: 'key', title: 'key', align: 'left' as const },
      { key: 'a', title: a.id.slice(0, 10), align: 'right' as const },
      { key: 'b', title: b.id.slice(0, 10), align: 'right' as const },
      { key: 'diff', title: 'b − a', align: 'right' as const },
    ];
    print(
      args,
      io,
      {
        title: `${a.label} (${a.id.slice(0, 10)}) vs ${b.label} (${b.id.slice(0, 10)}): params that differ`,
        columns: cols,
        rows: paramRows,
      },
      { title: 'metrics', columns: cols, rows: metricRows },
    );
  } finally {
    store.close();
  }
  return 0;
}

/** `squash history <trial id>`: the same config across experiments, sweeps and time. */
export async function history(args: ParsedArgs, io: IO): Promise<number> {
  const store = openStore(args);
  try {
    // A trial id (or prefix) first; anything else is a filter whose runs' trials are followed.
    const isTrialId = /^[0-9a-f]{4,}$/.test(args.target!);
    let runs = isTrialId ? store.runsOfTrial(args.target!) : [];
    if (!isTrialId) {
      // An attribute column is named by the attribute alone.
      const ids = queryRuns(store.db, args.target!, { columns: ['attributes.trial_id'] }).rows.map((r) =>
        String(r.trial_id),
      );
      runs = [...new Set(ids)].flatMap((id) => store.runsOfTrial(id));
    }
    if (!runs.length)
      throw new ConfigError(
        `no runs of trial '${args.target}' (give a trial id or its prefix, or a filter; see squash show <run>)`,
      );
    print(args, io, {
      title:
        new Set(runs.map((r) => r.trialId)).size === 1
          ? `trial ${runs[0]!.trialId}: ${runs[0]!.label} — ${runs.length} runs`
          : `${new Set(runs.map((r) => r.trialId)).size} trials — ${runs.length} runs`,
      columns: [
        { key: 'started', title: 'started', align: 'left' },
        { key: 'experiment', title: 'experiment', align: 'left' },
        { key: 'sweep', title: 'sweep', align: 'left' },
        { key: 'status', title: 'status', align: 'left' },
        { key: 'attempt', title: 'attempt', align: 'right' },
        { key: 'version', title: 'squash', align: 'left' },
        { key: 'backend', title: 'backend', align: 'left' },
        { key: 'accuracy', title: 'acc %', align: 'right' },
        { key: 'bytes', title: 'artifact bytes', align: 'right' },
        { key: 'run', title: 'run', align: 'left' },
        { key: 'trial', title: 'trial', align: 'left' },
      ],
      rows: runs.map((r) => ({
        started: r.startedAt,
        experiment: r.experiment,
        sweep: r.sweep,
        status: r.status,
        attempt: r.attempt,
        version: r.squashVersion ?? '',
        backend: r.backend,
        accuracy: r.metrics.accuracy !== undefined ? (r.metrics.accuracy * 100).toFixed(2) : '',
        bytes: r.metrics.artifact_bytes ?? '',
        run: r.id.slice(0, 12),
        trial: r.label,
      })),
    });
  } finally {
    store.close();
  }
  return 0;
}

/** `squash query '<filter>'`: runs matching a filter, on a read-only connection. */
export async function query(args: ParsedArgs, io: IO): Promise<number> {
  const store = openStore(args);
  try {
    const limit = args.limit === undefined ? undefined : Number(args.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0))
      throw new ConfigError(`--limit must be a whole number, got '${args.limit}'`, { location: { path: '--limit' } });
    const result = queryRuns(store.db, args.target ?? '', {
      orderBy: args.orderBy,
      limit,
      columns: args.columns ? [args.columns] : undefined,
      experiment: args.experiment,
    });
    print(args, io, {
      title: `${result.rows.length} runs`,
      columns: result.columns.map((c: string) => ({ key: c, title: c, align: 'left' as const })),
      rows: result.rows,
    });
  } finally {
    store.close();
  }
  return 0;
}
