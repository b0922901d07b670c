export { QueryError, IDENT_KINDS, ATTRIBUTES, ATTRIBUTE_NAMES, identName, identsOf } from './ast.js';
export type { Expr, Ident, IdentKind, Literal, CmpOp, AttributeName } from './ast.js';
export { parseFilter, MAX_CONDITIONS, MAX_DEPTH, MAX_IN_VALUES } from './parse.js';
export { filterSql, valueSql, toSql, RUNS_FROM, type SqlFragment } from './sql.js';
export { compileMatcher, matchRun, valueOf, type MatchableRun } from './match.js';
export { queryRuns, parseIdentList, DEFAULT_COLUMNS, type QueryDb, type QueryOptions, type QueryResult, type QueryCell } from './runs.js';
