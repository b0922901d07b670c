import { isLayerMetricKey, LayerField, parseLayerMetricKey, type RunView } from '@squash/contract';
import type { Table } from '@squash/reporter';
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

/** `squash show <run>`: everything about one run (an id prefix is enough). */
export async function show(runId: string, opts: ShowOptions, io: IO): Promise<number> {
  withReadStore(opts.db, (store) => {
    const run = store.getRun(runId);
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
          .filter(([k]) => !isLayerMetricKey(k))
          .sort(),
      ),
    ];
    const layers = layerTable(run);
    printTables(opts.format, io, ...(layers ? [...tables, layers] : tables));
  });
  return 0;
}
