export type { Table, Column, Cell } from './table.js';
export { comparisonTable } from './comparison.js';
export { renderTerminal, renderMarkdown, renderCsv, renderTable, REPORT_FORMATS, type ReportFormat } from './render.js';
export { referenceTable } from './reference.js';
export { reportTable, paretoPoints, shownRows, type ComparisonOptions } from './comparison.js';
export { hideConstantColumns } from './table.js';
export { paretoFront, paretoFrontIndices, frontPoints, type ParetoPoint } from './pareto.js';
export { pivotTable, type PivotOptions } from './pivot.js';
export { renderJson } from './render.js';
export { renderHtml, reportPlots, type HtmlOptions } from './html.js';
export { escapeHtml } from './html/escape.js';
export type { Plot } from './html/plots.js';
export { queryRuns, parseFilter, QueryError, type QueryOptions, type QueryResult } from './query/index.js';
export {
  compileMatcher,
  matchRun,
  valueOf,
  toSql,
  filterSql,
  valueSql,
  identsOf,
  identName,
  parseIdentList,
  DEFAULT_COLUMNS,
  IDENT_KINDS,
  ATTRIBUTE_NAMES,
  type Expr,
  type Ident,
  type IdentKind,
  type Literal,
  type CmpOp,
  type MatchableRun,
  type QueryDb,
  type QueryCell,
  type SqlFragment,
} from './query/index.js';
