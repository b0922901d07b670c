import { Metric, type RunView } from '@squash/contract';
import type { Cell, Table } from './table.js';

/** `.sqz + decoder`: the artifact plus the `@squash/sqz` bundle (min + gzip) a page loads to read it. */
export const SQZ_WITH_DECODER = 'sqz_with_decoder_bytes';

/** A trial's download sizes in the order a reader compares them: stock tfjs forms first, then .sqz. */
export const DOWNLOAD_COLUMNS = [
  { key: Metric.tfjsBytes, title: 'tfjs float32' },
  { key: Metric.tfjsUint8Bytes, title: 'tfjs-uint8' },
  { key: Metric.tfjsGzipBytes, title: 'gzip float32' },
  { key: Metric.tfjsUint8GzipBytes, title: 'gzip uint8' },
  { key: Metric.artifactBytes, title: '.sqz' },
  { key: SQZ_WITH_DECODER, title: '.sqz + decoder' },
] as const;

/** Shown for a size a run did not record (runs before download sizes were, or no decoder bundle). */
export const NOT_RECORDED = '—';

/**
 * One trial's download sizes in bytes, by DOWNLOAD_COLUMNS key; undefined where not recorded.
 * `decoderBytes` is the decoder bundle's min+gzip size (the caller reads it; this stays pure).
 */
export function downloadSizes(
  run: Pick<RunView, 'metrics'>,
  decoderBytes: number | undefined,
): Record<(typeof DOWNLOAD_COLUMNS)[number]['key'], number | undefined> {
  const sqz = run.metrics[Metric.artifactBytes];
  return {
    [Metric.tfjsBytes]: run.metrics[Metric.tfjsBytes],
    [Metric.tfjsUint8Bytes]: run.metrics[Metric.tfjsUint8Bytes],
    [Metric.tfjsGzipBytes]: run.metrics[Metric.tfjsGzipBytes],
    [Metric.tfjsUint8GzipBytes]: run.metrics[Metric.tfjsUint8GzipBytes],
    [Metric.artifactBytes]: sqz,
    [SQZ_WITH_DECODER]: sqz !== undefined && decoderBytes !== undefined ? sqz + decoderBytes : undefined,
  };
}

const kilobytes = (v: Cell) => (typeof v === 'number' ? (v / 1024).toFixed(1) : NOT_RECORDED);

/**
 * Per trial (baselines have no .sqz), what a browser downloads: the model as stock tfjs files
 * (float32 and uint8, plain and gzipped file by file) beside the .sqz alone and with its decoder.
 * KB on a terminal, bytes in csv and json; — where a run recorded none. Undefined without trials.
 */
export function downloadTable(runs: readonly RunView[], decoderBytes: number | undefined): Table | undefined {
  const trials = runs.filter((r) => !r.isBaseline);
  if (!trials.length) return undefined;
  const decoder =
    decoderBytes === undefined
      ? 'decoder bundle size unknown (@squash/sqz/bundle.json not found)'
      : `decoder: the @squash/sqz bundle, ${decoderBytes} bytes min+gzip`;
  return {
    title: `download sizes (KB; gzip: each file at level 9, as a web server sends it; ${decoder})`,
    columns: [
      { key: 'sweep', title: 'sweep', align: 'left' },
      { key: 'trial', title: 'trial', align: 'left' },
      ...DOWNLOAD_COLUMNS.map((c) => ({ key: c.key, title: c.title, align: 'right' as const, format: kilobytes })),
    ],
    rows: trials.map((r) => ({ id: r.id, sweep: r.sweep, trial: r.label, ...downloadSizes(r, decoderBytes) })),
  };
}
