import { type Cell, renderJson, renderTable, type ReportFormat, type Table } from '@squash/reporter';
import { type IO, outputWidth } from './io.js';

/** What `--format` accepts: every table format; `report` adds `html`. */
export type TableFormat = ReportFormat | 'json';
export type OutputFormat = TableFormat | 'html';

/** Any table in any text format. */
export function renderAs(t: Table, format: TableFormat, width: number): string {
  return format === 'json' ? renderJson(t) : renderTable(t, format, width);
}

/** The read commands' output: tables one after another, cut to the terminal's width. */
export function printTables(format: TableFormat, io: IO, ...tables: Table[]): void {
  const width = outputWidth();
  io.out(tables.map((t) => renderAs(t, format, width)).join('\n'));
}

/**
 * A two-column table of names and values. Values stay raw: terminal and markdown show numbers to
 * six significant digits, csv and json keep full precision.
 */
export function keyValues(title: string, entries: Array<[string, Cell]>): Table {
  return {
    title,
    columns: [
      { key: 'key', title: 'key', align: 'left' },
      { key: 'value', title: 'value', align: 'left' },
    ],
    rows: entries.map(([key, value]) => ({ key, value })),
  };
}
