/**
 * The run filter language (`squash query`, `SqliteStore.searchRuns`): MLflow-style search with OR,
 * IN, BETWEEN, LIKE/ILIKE, IS NULL and typed params. It parses to one plain AST (ast.ts, parse.ts)
 * with two consumers that agree on every filter: parameterized SQL here (sql.ts, search.ts), and
 * in-memory matching over RunViews in the reporter (`@squash/reporter`'s compileMatcher).
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
export { QueryError, IDENT_KINDS, ATTRIBUTES, ATTRIBUTE_NAMES, identName, identsOf } from './ast.js';
export type { Expr, Ident, IdentKind, Literal, CmpOp, AttributeName } from './ast.js';
export { parseFilter, parseIdentList, MAX_CONDITIONS, MAX_DEPTH, MAX_IN_VALUES } from './parse.js';
export { asciiLower, likeToRegExp } from './like.js';
export { DEFAULT_COLUMNS, type SearchCell, type SearchOptions, type SearchResult } from './search.js';
