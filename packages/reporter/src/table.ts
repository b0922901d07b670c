export type Cell = string | number | boolean | null | undefined;

export interface Column {
  key: string;
  title: string;
  align: 'left' | 'right';
  /** Display form for terminal and markdown; csv keeps the raw value. */
  format?: (v: Cell) => string;
}

/** The one table model every renderer reads. */
export interface Table {
  title?: string;
  columns: Column[];
  rows: Array<Record<string, Cell>>;
}

export function display(col: Column, v: Cell): string {
  if (col.format) return col.format(v);
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
