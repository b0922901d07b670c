import { Metric, type RunView } from '@squash/contract';
import { configIndices } from './configuration.js';
import { dataDescription } from './data.js';
import { configFront, frontRuns } from './pareto.js';
import { hideConstantColumns, type Cell, type Table } from './table.js';

export interface ComparisonOptions {
  /**
   * Adds a `front` column: ★ on the runs whose configuration is on the accuracy / artifact-bytes
   * Pareto front (`frontRunIds`: seeds averaged).
   */
  pareto?: boolean;
  /** Drops the columns whose value is the same in every row (sweep, trial, accuracy and front stay). */
  hideConstant?: boolean;
  /** The front's run ids when already computed (implies `pareto`). */
  front?: ReadonlySet<string>;
  /**
   * At most this many rows: the Pareto-front rows first (with `pareto`), then the others in table
   * order, printed in table order; the title says how many are shown. All rows by default.
   */
  maxRows?: number;
  /**
   * The whole experiment, when `runs` holds only the rows to show (chosen with `shownRows` from
   * light heads, with `front` computed over all of them): the title and seed column use these.
   */
  population?: { runs: number; trials: number; seeds: number; backends: string[] };
}

/** The metric columns of the comparison table, in order; each column's key is the metric's. */
const METRIC_COLUMNS = [
  Metric.accuracy,
  Metric.accuracyDelta,
  Metric.loss,
  Metric.weightsChangedFraction,
  Metric.weightsKeptFraction,
  Metric.weightBits,
  Metric.activationBits,
  Metric.artifactBytes,
  Metric.compressionRatio,
] as const;

/** Columns `hideConstant` never drops. */
export const ALWAYS_SHOWN = ['sweep', 'trial', Metric.accuracy, 'front'] as const;

/** FINISHED runs with a finite accuracy and artifact size, as Pareto points (id = run id). */
export function paretoPoints(
  runs: readonly Pick<RunView, 'id' | 'status' | 'metrics'>[],
): Array<{ id: string; accuracy: number; bytes: number }> {
  const out: Array<{ id: string; accuracy: number; bytes: number }> = [];
  for (const r of runs) {
    const accuracy = r.metrics[Metric.accuracy];
    const bytes = r.metrics[Metric.artifactBytes];
    if (r.status === 'FINISHED' && Number.isFinite(accuracy) && Number.isFinite(bytes))
      out.push({ id: r.id, accuracy: accuracy!, bytes: bytes! });
  }
  return out;
}

/**
 * Ids of the FINISHED runs whose configuration is on the accuracy / artifact-bytes Pareto front:
 * the seeds of a configuration are one point at their means, so one lucky seed cannot earn a ★,
 * and every run of a front configuration gets one.
 */
export function frontRunIds(
  runs: readonly Pick<RunView, 'id' | 'status' | 'metrics' | 'sweep' | 'label' | 'params'>[],
): Set<string> {
  const accuracy = Float64Array.from(runs, (r) =>
    r.status === 'FINISHED' ? (r.metrics[Metric.accuracy] ?? NaN) : NaN,
  );
  const bytes = Float64Array.from(runs, (r) => r.metrics[Metric.artifactBytes] ?? NaN);
  const front = configFront(
    accuracy,
    bytes,
    configIndices(runs),
    runs.map((_, i) => i),
  );
  return new Set([...frontRuns(front)].map((i) => runs[i]!.id));
}

const pct = (digits: number) => (v: Cell) => (typeof v === 'number' ? (v * 100).toFixed(digits) : '');
const signedPoints = (v: Cell) => (typeof v === 'number' ? `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}` : '');
const fixed = (digits: number) => (v: Cell) => (typeof v === 'number' ? v.toFixed(digits) : '');
const int = (v: Cell) => (typeof v === 'number' ? String(Math.round(v)) : '');
const kilobytes = (v: Cell) => (typeof v === 'number' ? (v / 1024).toFixed(1) : '');
const star = (v: Cell) => (v === true ? '★' : '');
const ratio = (v: Cell) => (typeof v === 'number' ? `${v.toFixed(1)}×` : '');

/**
 * The rows a table of at most `maxRows` shows, as indices in table order (baselines first): the
 * Pareto-front rows first, then the others in order until the table is full. Over indices, so a
 * report can choose among 100,000 run heads without an object per run.
 */
export function shownRows(
  count: number,
  maxRows: number,
  isBaseline: (i: number) => boolean,
  onFront: (i: number) => boolean = () => false,
): number[] {
  const ordered: number[] = [];
  for (let i = 0; i < count; i++) if (isBaseline(i)) ordered.push(i);
  for (let i = 0; i < count; i++) if (!isBaseline(i)) ordered.push(i);
  if (ordered.length <= maxRows) return ordered;
  const max = Math.max(0, maxRows);
  const keep = new Uint8Array(count);
  let kept = 0;
  for (const i of ordered) if (kept < max && onFront(i)) (keep[i] = 1), kept++;
  for (const i of ordered) {
    if (kept >= max) break;
    if (!keep[i]) (keep[i] = 1), kept++;
  }
  return ordered.filter((i) => keep[i]);
}

/**
 * `baseline (lenet-300-100, 10 epochs)`; a baseline trained for a number of optimizer steps says
 * `10000 iterations`, and one of several from `train:` axes (its label `baseline(learningRate=0.01)`)
 * adds their values, so each baseline row says which it is.
 */
export function baselineTitle(r: Pick<RunView, 'label' | 'params'>): string {
  const length = r.params.iterations !== undefined ? `${r.params.iterations} iterations` : `${r.params.epochs} epochs`;
  const axes = /^baseline\((.*)\)$/.exec(r.label)?.[1];
  return `baseline (${r.params.model}, ${length}${axes ? `, ${axes}` : ''})`;
}

/**
 * Baseline row(s) first, then every trial: accuracy and its delta to the baseline in points,
 * fraction of weights changed and kept, and bits. Failed trials stay visible with their status.
 */
export function comparisonTable(experiment: string, runs: RunView[], opts: ComparisonOptions = {}): Table {
  const front = opts.front ?? (opts.pareto ? frontRunIds(runs) : undefined);
  const ordered = opts.population
    ? runs
    : shownRows(
        runs.length,
        opts.maxRows ?? Infinity,
        (i) => runs[i]!.isBaseline,
        (i) => front?.has(runs[i]!.id) ?? false,
      ).map((i) => runs[i]!);
  const population = opts.population ?? {
    runs: runs.length,
    trials: runs.filter((r) => !r.isBaseline).length,
    seeds: new Set(runs.map((r) => r.seed)).size,
    backends: [...new Set(runs.map((r) => r.backend ?? ''))],
  };
  const total = population.runs;
  const data = dataDescription(ordered);
  const table: Table = {
    title:
      `${experiment}: ${population.trials} trials, backend ${population.backends.join('/')}` +
      (data ? `; data ${data}` : '') +
      (ordered.length < total
        ? `; showing ${ordered.length} of ${total} rows (${front ? 'the Pareto front, then ' : ''}the first in table order)`
        : ''),
    columns: [
      { key: 'sweep', title: 'sweep', align: 'left' },
      { key: 'trial', title: 'trial', align: 'left' },
      ...(front ? [{ key: 'front', title: 'front', align: 'left' as const, format: star }] : []),
      ...(population.seeds > 1 ? [{ key: 'seed', title: 'seed', align: 'right' as const }] : []),
      { key: Metric.accuracy, title: 'acc %', align: 'right', format: pct(2) },
      { key: Metric.accuracyDelta, title: 'Δ pts', align: 'right', format: signedPoints },
      { key: Metric.loss, title: 'loss', align: 'right', format: fixed(4) },
      { key: Metric.weightsChangedFraction, title: 'changed %', align: 'right', format: pct(1) },
      { key: Metric.weightsKeptFraction, title: 'kept %', align: 'right', format: pct(1) },
      { key: Metric.weightBits, title: 'w bits', align: 'right', format: int },
      { key: Metric.activationBits, title: 'a bits', align: 'right', format: int },
      { key: Metric.artifactBytes, title: 'KB', align: 'right', format: kilobytes },
      { key: Metric.compressionRatio, title: 'ratio', align: 'right', format: ratio },
      { key: 'status', title: 'status', align: 'left' },
    ],
    rows: ordered.map((r) => {
      const row: Record<string, Cell> = {
        id: r.id,
        sweep: r.sweep,
        trial: r.isBaseline ? baselineTitle(r) : r.label,
        front: front?.has(r.id),
        seed: r.seed,
      };
      for (const k of METRIC_COLUMNS) row[k] = r.metrics[k];
      row.status = r.status;
      return row;
    }),
  };
  return opts.hideConstant ? hideConstantColumns(table, ALWAYS_SHOWN) : table;
}

/** The report's variant of the comparison table: Pareto marks on, constant columns hidden. */
export function reportTable(experiment: string, runs: RunView[], opts: ComparisonOptions = {}): Table {
  return comparisonTable(experiment, runs, { pareto: true, hideConstant: true, ...opts });
}
