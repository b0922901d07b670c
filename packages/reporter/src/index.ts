export type { Table, Column, Cell } from './table.js';
export { comparisonTable } from './comparison.js';
export { dataDescription } from './data.js';
export { renderTerminal, renderMarkdown, renderCsv, renderTable, REPORT_FORMATS, type ReportFormat } from './render.js';
export { referenceTable } from './reference.js';
export { reportTable, paretoPoints, frontRunIds, shownRows, type ComparisonOptions } from './comparison.js';
export { configKey, configIndices, isConfigParam } from './configuration.js';
export { hideConstantColumns } from './table.js';
export {
  paretoFront,
  paretoFrontIndices,
  configFront,
  frontRuns,
  frontPoints,
  type FrontConfig,
  type ParetoPoint,
} from './pareto.js';
export { pivotTable, type PivotOptions } from './pivot.js';
export { renderJson } from './render.js';
export { renderHtml, reportPlots, type HtmlOptions, type SearchSection } from './html.js';
export { escapeHtml, terminalText, markdownText, csvField, jsonText } from './neutralise.js';
export type { Plot } from './html/plots.js';
export { compileMatcher, matchRun, valueOf, type MatchableRun } from './query/match.js';
export { downloadTable, downloadSizes, DOWNLOAD_COLUMNS, NOT_RECORDED, SQZ_WITH_DECODER } from './downloads.js';
