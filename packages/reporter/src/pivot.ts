import type { RunView } from '@squash/contract';
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

/**
 * `metric` of the FINISHED runs by the value of one param (rows) against another (columns): each
 * cell is `mean ± std (n=…)` over the runs that share both values (seeds, usually), or the single
 * value when there is one. Runs missing either param or the metric are left out; an empty cell
 * means no run had that pair.
 */
export function pivotTable(runs: readonly RunView[], opts: PivotOptions): Table {
  const cells = new Map<Key, Map<Key, number[]>>();
  for (const r of runs) {
    const rv = r.params[opts.rows];
    const cv = r.params[opts.columns];
    const m = r.metrics[opts.metric];
    if (r.status !== 'FINISHED' || rv === undefined || cv === undefined || m === undefined || !Number.isFinite(m))
      continue;
    let row = cells.get(rv);
    if (!row) cells.set(rv, (row = new Map()));
    let values = row.get(cv);
    if (!values) row.set(cv, (values = []));
    values.push(m);
  }
  const rowKeys = sortKeys(cells.keys());
  const colKeys = sortKeys([...cells.values()].flatMap((row) => [...row.keys()]));
  const colKey = (v: Key) => `${opts.columns}=${String(v)}`;
  const short = opts.columns.slice(opts.columns.lastIndexOf('.') + 1);
  const columns: Column[] = [
    { key: opts.rows, title: opts.rows, align: typeof rowKeys[0] === 'number' ? 'right' : 'left' },
    ...colKeys.map((c) => ({ key: colKey(c), title: `${short}=${String(c)}`, align: 'right' as const })),
  ];
  const rows = rowKeys.map((rv) => {
    const row: Record<string, Cell> = { [opts.rows]: rv };
    for (const c of colKeys) {
      const values = cells.get(rv)!.get(c);
      if (values) row[colKey(c)] = formatMeanStd(values);
    }
    return row;
  });
  return {
    title: `${opts.metric} by ${opts.rows} (rows) × ${opts.columns} (columns), mean ± std over runs`,
    columns,
    rows,
  };
}
