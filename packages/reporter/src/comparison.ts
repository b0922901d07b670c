import type { RunView } from '@squash/runner';
import type { Cell, Table } from './table.js';

const pct = (digits: number) => (v: Cell) => (typeof v === 'number' ? (v * 100).toFixed(digits) : '');
const signedPoints = (v: Cell) => (typeof v === 'number' ? `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}` : '');
const fixed = (digits: number) => (v: Cell) => (typeof v === 'number' ? v.toFixed(digits) : '');
const int = (v: Cell) => (typeof v === 'number' ? String(Math.round(v)) : '');
const kilobytes = (v: Cell) => (typeof v === 'number' ? (v / 1024).toFixed(1) : '');
const ratio = (v: Cell) => (typeof v === 'number' ? `${v.toFixed(1)}×` : '');

/**
 * Baseline row(s) first, then every trial: accuracy and its delta to the baseline in points,
 * fraction of weights changed and kept, and bits. Failed trials stay visible with their status.
 */
export function comparisonTable(experiment: string, runs: RunView[]): Table {
  const ordered = [...runs.filter((r) => r.isBaseline), ...runs.filter((r) => !r.isBaseline)];
  const seeds = new Set(runs.map((r) => r.seed));
  return {
    title: `${experiment}: ${runs.filter((r) => !r.isBaseline).length} trials, backend ${[...new Set(runs.map((r) => r.backend))].join('/')}`,
    columns: [
      { key: 'sweep', title: 'sweep', align: 'left' },
      { key: 'trial', title: 'trial', align: 'left' },
      ...(seeds.size > 1 ? [{ key: 'seed', title: 'seed', align: 'right' as const }] : []),
      { key: 'accuracy', title: 'acc %', align: 'right', format: pct(2) },
      { key: 'accuracy_delta', title: 'Δ pts', align: 'right', format: signedPoints },
      { key: 'loss', title: 'loss', align: 'right', format: fixed(4) },
      { key: 'weights_changed_fraction', title: 'changed %', align: 'right', format: pct(1) },
      { key: 'weights_kept_fraction', title: 'kept %', align: 'right', format: pct(1) },
      { key: 'weight_bits', title: 'w bits', align: 'right', format: int },
      { key: 'activation_bits', title: 'a bits', align: 'right', format: int },
      { key: 'artifact_bytes', title: 'KB', align: 'right', format: kilobytes },
      { key: 'compression_ratio', title: 'ratio', align: 'right', format: ratio },
      { key: 'status', title: 'status', align: 'left' },
    ],
    rows: ordered.map((r) => ({
      sweep: r.sweep,
      trial: r.isBaseline ? `baseline (${r.params.model}, ${r.params.epochs} epochs)` : r.label,
      seed: r.seed,
      accuracy: r.metrics.accuracy,
      accuracy_delta: r.metrics.accuracy_delta,
      loss: r.metrics.loss,
      weights_changed_fraction: r.metrics.weights_changed_fraction,
      weights_kept_fraction: r.metrics.weights_kept_fraction,
      weight_bits: r.metrics.weight_bits,
      activation_bits: r.metrics.activation_bits,
      artifact_bytes: r.metrics.artifact_bytes,
      compression_ratio: r.metrics.compression_ratio,
      status: r.status,
    })),
  };
}
