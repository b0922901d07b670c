export type Cell = string | number | boolean | null | undefined;

export interface Column {
  key: string;
  title: string;
  align: 'left' | 'right';
  /**
   * Display form for terminal, markdown and html (default: numbers to six significant digits); csv
   * and json keep the raw value. `row` is the whole row, for a unit that depends on another cell.
   */
  format?: (v: Cell, row: Readonly<Record<string, Cell>>) => string;
}

/** The one table model every renderer reads. */
export interface Table {
  title?: string;
  columns: Column[];
  rows: Array<Record<string, Cell>>;
}

/** A number for reading: whole numbers as they are, others to six significant digits (`0.0057`, not `0.005699999999999927`). */
export function formatNumber(v: number): string {
  return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/** A cell as terminal and markdown show it (csv and json keep the raw value). */
export function display(col: Column, row: Readonly<Record<string, Cell>>): string {
  const v = row[col.key];
  if (col.format) return col.format(v, row);
  if (typeof v === 'number') return formatNumber(v);
  return v === null || v === undefined ? '' : String(v);
}

/**
 * The table without the columns whose raw value is the same in every row (absent counts as one
 * value), except those named in `keep`. A table of fewer than two rows is returned as it is.
 */
export function hideConstantColumns(t: Table, keep: readonly string[] = []): Table {
  if (t.rows.length < 2) return t;
  const same = (a: Cell, b: Cell) =>
    a === b ||
    ((a === null || a === undefined) && (b === null || b === undefined)) ||
    (Number.isNaN(a) && Number.isNaN(b));
  const varies = (key: string) => t.rows.some((r) => !same(r[key], t.rows[0]![key]));
  return { ...t, columns: t.columns.filter((c) => keep.includes(c.key) || varies(c.key)) };
}
