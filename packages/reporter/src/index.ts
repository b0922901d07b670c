export type { Table, Column, Cell } from './table.js';
export { comparisonTable } from './comparison.js';
export { renderTerminal, renderMarkdown, renderCsv, renderTable, REPORT_FORMATS, type ReportFormat } from './render.js';
export { referenceTable } from './reference.js';
