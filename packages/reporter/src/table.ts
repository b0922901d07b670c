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
