import type { RunView } from '@squash/contract';
import { isConfigParam } from './configuration.js';
import type { Cell, Column, Table } from './table.js';

export interface PivotOptions {
  /** Param key whose values become the rows, e.g. `<stage>.bits`. */
  rows: string;
  /** Param key whose values become the columns, e.g. `<stage>.scheme`. */
  columns: string;
  /** Metric key averaged in each cell, e.g. `accuracy`. */
  metric: string;
}

type Key = string | number | boolean;

/** Numeric order when every value is a number, else string order (booleans and strings). */
export function sortKeys<T extends Key>(values: Iterable<T>): T[] {
  const all = [...new Set(values)];
  if (all.every((v) => typeof v === 'number')) return all.sort((a, b) => (a as number) - (b as number));
  return all.sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

/** Four significant digits for small values, whole numbers from 1000 up. */
export function formatStat(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  return String(Number(v.toPrecision(4)));
}

/** Mean and sample standard deviation (0 for a single value). */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

export function formatMeanStd(values: readonly number[]): string {
  const { mean, std, n } = meanStd(values);
  return n > 1 ? `${formatStat(mean)} ± ${formatStat(std)} (n=${n})` : formatStat(mean);
}

const ABSENT = '–';
const SWEEP = 'sweep';

/** Orders tuples component by component, each like `sortKeys`: numbers numerically, else as strings. */
function compareTuples(a: readonly Key[], b: readonly Key[]): number {
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
  }
  return 0;
}

/**
 * `metric` of the FINISHED runs by the value of one param (rows) against another (columns). Each
 * cell is one configuration's `mean ± std (n=…)` over its seeds (the bare value for one run): only
 * runs that differ by nothing but their seed are averaged. When other axes vary among the runs —
 * another swept param, several sweeps — each becomes a column on the left, and configurations that
 * share the two values get a row each instead of being averaged together; the title names them.
 * Runs missing either param or the metric are left out; an empty cell means no run had that pair.
 */
export function pivotTable(runs: readonly RunView[], opts: PivotOptions): Table {
  const used = runs.filter((r) => {
    const m = r.metrics[opts.metric];
    return (
      r.status === 'FINISHED' &&
      r.params[opts.rows] !== undefined &&
      r.params[opts.columns] !== undefined &&
      m !== undefined &&
      Number.isFinite(m)
    );
  });
  // The other axes: params (and the sweep) that take more than one value among the runs used.
  const values = new Map<string, Set<Key>>([[SWEEP, new Set()]]);
  for (const r of used)
    for (const k in r.params) if (isConfigParam(k) && k !== opts.rows && k !== opts.columns) values.set(k, new Set());
  for (const r of used) for (const [k, vs] of values) vs.add(k === SWEEP ? r.sweep : (r.params[k] ?? ABSENT));
  const others = [SWEEP, ...sortKeys([...values.keys()].filter((k) => k !== SWEEP))].filter(
    (k) => values.get(k)!.size > 1,
  );
  const rowsByKey = new Map<string, { tuple: Key[]; cells: Map<Key, number[]> }>();
  for (const r of used) {
    const tuple: Key[] = [
      ...others.map((k) => (k === SWEEP ? r.sweep : (r.params[k] ?? ABSENT))),
      r.params[opts.rows]!,
    ];
    const id = JSON.stringify(tuple);
    let row = rowsByKey.get(id);
    if (!row) rowsByKey.set(id, (row = { tuple, cells: new Map() }));
    const cv = r.params[opts.columns]!;
    const cell = row.cells.get(cv);
    if (cell) cell.push(r.metrics[opts.metric]!);
    else row.cells.set(cv, [r.metrics[opts.metric]!]);
  }
  const ordered = [...rowsByKey.values()].sort((a, b) => compareTuples(a.tuple, b.tuple));
  const colKeys = sortKeys(used.map((r) => r.params[opts.columns]!));
  const colKey = (v: Key) => `${opts.columns}=${String(v)}`;
  const short = opts.columns.slice(opts.columns.lastIndexOf('.') + 1);
  const keyColumns = [...others, opts.rows];
  const columns: Column[] = [
    ...keyColumns.map((k, i) => ({
      key: k,
      title: k,
      align:
        ordered.every((r) => typeof r.tuple[i] === 'number') && ordered.length ? ('right' as const) : ('left' as const),
    })),
    ...colKeys.map((c) => ({ key: colKey(c), title: `${short}=${String(c)}`, align: 'right' as const })),
  ];
  const rows = ordered.map(({ tuple, cells }) => {
    const row: Record<string, Cell> = {};
    keyColumns.forEach((k, i) => (row[k] = tuple[i]));
    for (const [c, vs] of cells) row[colKey(c)] = formatMeanStd(vs);
    return row;
  });
  return {
    title:
      `${opts.metric} by ${opts.rows} (rows) × ${opts.columns} (columns), mean ± std over seeds` +
      (others.length
        ? `; one row per ${others.join(', ')} too (they vary: averaging across them would mix configurations)`
        : ''),
    columns,
    rows,
  };
}
