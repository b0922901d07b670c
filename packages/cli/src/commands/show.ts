import { isLayerMetricKey, LayerField, layerMetricRows, type RunView } from '@squash/contract';
import { type Cell, DOWNLOAD_COLUMNS, downloadSizes, NOT_RECORDED, type Table } from '@squash/reporter';
import { decoderBundle } from '../decoder_bundle.js';
import type { IO } from '../io.js';
import type { OutputOptions } from '../options.js';
import { keyValues, printTables } from '../output.js';
import { withReadStore } from '../read_store.js';
import { resolveRun } from '../resolve_run.js';

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
  const rows = layerMetricRows(run.metrics);
  if (!rows.length) return undefined;
  return {
    title: 'per-tensor sizes (bytes of real encodings)',
    columns: [
      { key: 'tensor', title: 'tensor', align: 'left' },
      ...LAYER_COLUMNS.map((k) => ({ key: k, title: k, align: 'right' as const })),
    ],
    rows,
  };
}

/** What a browser downloads for this trial's model, in bytes; — for sizes the run did not record. */
function downloadsTable(run: RunView, format: ShowOptions['format']): Table {
  const missing = format === 'terminal' || format === 'markdown' ? NOT_RECORDED : null;
  const decoder = decoderBundle();
  const sizes = downloadSizes(run, decoder?.gzipBytes);
  const decoderNote = decoder
    ? `decoder: the @squash/sqz bundle, ${decoder.gzipBytes} bytes min+gzip`
    : 'decoder bundle size unknown: @squash/sqz/bundle.json not found';
  return keyValues(
    `download sizes (bytes; gzip: each file at level 9; ${decoderNote})`,
    DOWNLOAD_COLUMNS.map((c): [string, Cell] => [c.title, sizes[c.key] ?? missing]),
  );
}

/** `squash show <run id | trial id>`: everything about one run (an id prefix is enough). */
export async function show(id: string, opts: ShowOptions, io: IO): Promise<number> {
  withReadStore(opts.db, (store) => {
    const { run, trial } = resolveRun(store, id);
    const note = trial?.note;
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
      ...Object.entries(run.artifacts).flatMap(
        ([k, a]): Array<[string, Cell]> => [
          [`artifact (${k})`, `${a.path} (${a.bytes} bytes)`],
          ...(a.sha256 ? [[`artifact (${k}) sha256`, a.sha256] as [string, Cell]] : []),
        ],
      ),
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
    if (!run.isBaseline) tables.push(downloadsTable(run, opts.format));
    const layers = layerTable(run);
    printTables(opts.format, io, ...(layers ? [...tables, layers] : tables));
  });
  return 0;
}
