import { isLayerMetricKey, LayerField, parseLayerMetricKey, type RunView } from '@squash/contract';
import { ConfigError } from '@squash/core';
import { type Cell, type Table, terminalText } from '@squash/reporter';
import type { SqliteStore } from '@squash/store';
import type { IO } from '../io.js';
import type { OutputOptions } from '../options.js';
import { keyValues, printTables } from '../output.js';
import { withReadStore } from '../read_store.js';

export type ShowOptions = OutputOptions;

/** The per-tensor columns `show` prints; the fractions (kept_fraction, size_fraction) follow from them. */
const LAYER_COLUMNS = [
  LayerField.kept,
  LayerField.total,
  LayerField.bits,
  LayerField.indexBits,
  LayerField.denseBytes,
  LayerField.sparseBytes,
  LayerField.quantizedBytes,
  LayerField.huffmanBytes,
  LayerField.artifactBytes,
];

/** Per-tensor sizes from the `layer.<tensor>.<field>` metrics. */
function layerTable(run: RunView): Table | undefined {
  const layers = new Map<string, Record<string, string | number>>();
  for (const [k, v] of Object.entries(run.metrics)) {
    const key = parseLayerMetricKey(k);
    if (!key) continue;
    const row = layers.get(key.tensor) ?? { tensor: key.tensor };
    row[key.field] = v;
    layers.set(key.tensor, row);
  }
  if (!layers.size) return undefined;
  return {
    title: 'per-tensor sizes (bytes of real encodings)',
    columns: [
      { key: 'tensor', title: 'tensor', align: 'left' },
      ...LAYER_COLUMNS.map((k) => ({ key: k, title: k, align: 'right' as const })),
    ],
    rows: [...layers.values()],
  };
}

/** Candidates listed when an id is ambiguous. */
const MAX_CANDIDATES = 10;

/** The run to show and, for a trial id, a note saying which of its runs it is. */
interface Resolved {
  run: RunView;
  note?: string;
}

/**
 * A run id or a trial id (or a prefix of either): a run id is that run; a trial id is its latest
 * FINISHED run (else its latest run), and the note says so. An id that is both, or the prefix of
 * several, is a ConfigError listing the candidates.
 */
function resolve(store: SqliteStore, id: string): Resolved {
  // Ids are hex digits and dashes; anything else matches nothing (and needs no quoting below).
  const ok = /^[0-9A-Za-z-]+$/.test(id);
  const like = (attr: string) => `attributes.${attr} like '${id}%'`;
  const runs = ok
    ? store.searchRuns(like('run_id'), { columns: ['run_id, label'], limit: MAX_CANDIDATES + 1 }).rows
    : [];
  const trialRows = ok ? store.searchRuns(like('trial_id'), { columns: ['trial_id, label'] }).rows : [];
  const trials = new Map<string, { label: string; runs: number }>();
  for (const r of trialRows) {
    const t = trials.get(String(r.trial_id)) ?? { label: String(r.label), runs: 0 };
    t.runs++;
    trials.set(String(r.trial_id), t);
  }
  const exactRun = runs.find((r) => r.run_id === id);
  const exactTrial = trials.has(id);
  if (exactRun || (runs.length === 1 && !trials.size))
    return { run: store.getRun(String((exactRun ?? runs[0]!).run_id)) };
  if (exactTrial || (trials.size === 1 && !runs.length)) {
    const trialId = exactTrial ? id : [...trials.keys()][0]!;
    const all = store.runsOfTrial(trialId).filter((r) => r.trialId === trialId);
    const finished = all.filter((r) => r.status === 'FINISHED');
    const run = (finished.length ? finished : all)[(finished.length ? finished : all).length - 1]!;
    const which = finished.length ? 'its latest finished run' : `its latest run (none finished)`;
    return {
      run,
      note: `trial ${trialId}: ${which}, of ${all.length} (squash history ${trialId.slice(0, 12)} lists them)`,
    };
  }
  if (!runs.length && !trials.size)
    throw new ConfigError(`no run or trial with id '${id}'`, { hint: 'squash query lists run ids' });
  const candidates = [
    // Labels come from experiment files: shown escaped, as in a table.
    ...runs.slice(0, MAX_CANDIDATES).map((r) => `run ${r.run_id} (${terminalText(String(r.label))})`),
    ...[...trials]
      .slice(0, MAX_CANDIDATES)
      .map(([t, { label, runs: n }]) => `trial ${t} (${terminalText(label)}, ${n} runs)`),
  ];
  const more = runs.length > MAX_CANDIDATES || trials.size > MAX_CANDIDATES ? '\n  …' : '';
  throw new ConfigError(
    `'${id}' is the start of several ids; give more characters:\n  ${candidates.join('\n  ')}${more}`,
  );
}

/** `squash show <run id | trial id>`: everything about one run (an id prefix is enough). */
export async function show(id: string, opts: ShowOptions, io: IO): Promise<number> {
  withReadStore(opts.db, (store) => {
    const { run, note } = resolve(store, id);
    const d = store.runDetails(run.id);
    const attrs: Array<[string, Cell]> = [
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
      ...Object.entries(run.artifacts).map(([k, a]): [string, Cell] => [
        `artifact (${k})`,
        `${a.path} (${a.bytes} bytes)`,
      ]),
      ...Object.entries(run.tags).map(([k, v]): [string, Cell] => [`tag ${k}`, v]),
      ...(run.error ? [['error', run.error.split('\n')[0]] as [string, Cell]] : []),
    ];
    const tables = [
      keyValues(note ? `run ${run.id}, ${note}` : `run ${run.id}`, attrs),
      keyValues('params', Object.entries(run.params).sort()),
      keyValues(
        'metrics',
        Object.entries(run.metrics)
          .filter(([k]) => !isLayerMetricKey(k))
          .sort(),
      ),
    ];
    const layers = layerTable(run);
    printTables(opts.format, io, ...(layers ? [...tables, layers] : tables));
  });
  return 0;
}
