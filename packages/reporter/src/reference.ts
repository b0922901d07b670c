import { Metric, type Reference, type RunView } from '@squash/contract';
import type { Cell, Table } from './table.js';

const PERCENT_KEYS = new Set<string>([
  Metric.accuracy,
  Metric.accuracyDelta,
  Metric.weightsKeptFraction,
  Metric.weightsChangedFraction,
  Metric.valAccuracy,
]);

function show(key: string, v: Cell): string {
  if (typeof v !== 'number') return '';
  if (PERCENT_KEYS.has(key) || key.endsWith('_fraction')) return `${(v * 100).toFixed(2)} %`;
  if (key.endsWith('_bytes')) return v >= 10_000 ? `${(v / 1024).toFixed(1)} KB` : `${Math.round(v)} B`;
  if (key === Metric.compressionRatio) return `${v.toFixed(1)}×`;
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

function showDelta(key: string, v: Cell): string {
  if (typeof v !== 'number') return '';
  const sign = v >= 0 ? '+' : '';
  if (PERCENT_KEYS.has(key) || key.endsWith('_fraction')) return `${sign}${(v * 100).toFixed(2)} pts`;
  if (key.endsWith('_bytes')) return `${sign}${(v / 1024).toFixed(1)} KB`;
  if (key === Metric.compressionRatio) return `${sign}${v.toFixed(1)}×`;
  return `${sign}${Number.isInteger(v) ? v : v.toPrecision(4)}`;
}

/** The runs a reference row speaks of: its sweep (or the baseline) and its param values, FINISHED. */
function matching(row: Reference['rows'][number], runs: RunView[]): RunView[] {
  return runs.filter(
    (r) =>
      r.status === 'FINISHED' &&
      (row.sweep === undefined || (row.sweep === 'baseline' ? r.isBaseline : r.sweep === row.sweep)) &&
      Object.entries(row.params ?? {}).every(([k, v]) => r.params[k] === v),
  );
}

/**
 * Published and measured side by side: one line per reference row and metric, the measured value
 * the mean over the matching runs (seeds), and the difference measured − published. Values are
 * raw numbers (csv and json get them at full precision); terminal, markdown and html show them in
 * the metric's unit (`98.36 %`, `-0.23 pts`, `40.0×`), and a missing measurement as `no run`.
 */
export function referenceTable(reference: Reference, runs: RunView[]): Table {
  const rows: Array<Record<string, Cell>> = [];
  for (const row of reference.rows) {
    const found = matching(row, runs);
    for (const [key, published] of Object.entries(row.metrics)) {
      const values = found.map((r) => r.metrics[key]).filter((v): v is number => typeof v === 'number');
      const measured = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
      rows.push({
        row: row.name,
        metric: key,
        published,
        measured,
        delta: measured === null ? null : measured - published,
        runs: values.length,
      });
    }
  }
  return {
    title: `Reference${reference.source ? `: ${reference.source}` : ''} (measured = mean over matching runs)`,
    columns: [
      { key: 'row', title: 'reference row', align: 'left' },
      { key: 'metric', title: 'metric', align: 'left' },
      { key: 'published', title: 'published', align: 'right', format: (v, r) => show(String(r.metric), v) },
      {
        key: 'measured',
        title: 'measured',
        align: 'right',
        format: (v, r) => (v === null ? 'no run' : show(String(r.metric), v)),
      },
      { key: 'delta', title: 'Δ', align: 'right', format: (v, r) => showDelta(String(r.metric), v) },
      { key: 'runs', title: 'runs', align: 'right' },
    ],
    rows,
  };
}
