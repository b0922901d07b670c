/**
 * `squash query` filters: an MLflow-style search language with OR, IN, BETWEEN, LIKE/ILIKE,
 * IS NULL and typed params. One AST (parse.ts) feeds two consumers: parameterized SQL (sql.ts,
 * runs.ts) and in-memory matching (match.ts), which agree on every filter.
 *
 *   filter     := or
 *   or         := and ('or' and)*
 *   and        := unary ('and' unary)*
 *   unary      := 'not' unary | '(' or ')' | predicate
 *   predicate  := ident ( cmpop value
 *                       | ['not'] 'in' '(' value (',' value)* ')'
 *                       | ['not'] ('like' | 'ilike') string
 *                       | ['not'] 'between' value 'and' value
 *                       | 'is' ['not'] 'null' )
 *   ident      := kind '.' key | kind '.' '`' any text, `` for ` '`'
 *   kind       := metrics | params | tags | attributes          (case-insensitive)
 *   key        := [A-Za-z0-9_.\-/:]+ (after the first dot)       (case-sensitive)
 *   cmpop      := = | == | != | <> | < | <= | > | >=
 *   value      := number (-1, .5, 1e-3) | 'string' | "string" (\\ \' \" \n \t, '' doubling) | true | false
 * Keywords are case-insensitive. Conditions on a key a run lacks are false (negated forms too).
 */
export { QueryError, IDENT_KINDS, ATTRIBUTES, ATTRIBUTE_NAMES, RUN_STATUSES, identName, identsOf } from './ast.js';
export type { Expr, Ident, IdentKind, Literal, CmpOp, AttributeName } from './ast.js';
export { parseFilter, MAX_CONDITIONS, MAX_DEPTH, MAX_IN_VALUES } from './parse.js';
export { filterSql, valueSql, toSql, RUNS_FROM, type SqlFragment } from './sql.js';
export { compileMatcher, matchRun, valueOf, type MatchableRun } from './match.js';
export {
  queryRuns,
  parseIdentList,
  DEFAULT_COLUMNS,
  type QueryDb,
  type QueryOptions,
  type QueryResult,
  type QueryCell,
} from './runs.js';
