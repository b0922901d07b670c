import { ATTRIBUTES, type AttributeName, type Expr, type Ident, type Literal } from './ast.js';
import { likeToGlob } from './like.js';

/** SQL text with `?` placeholders and their values, in order. User text only ever travels in `params`. */
export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/** The FROM clause every fragment here assumes: `r` is the run, `e` its experiment. */
export const RUNS_FROM = 'runs r JOIN experiments e ON e.id = r.experiment_id';

/** Where each attribute lives, under RUNS_FROM. */
const COLUMNS: Record<AttributeName, string> = {
  run_id: 'r.id',
  experiment: 'e.name',
  sweep: 'r.sweep',
  label: 'r.label',
  status: 'r.status',
  trial_id: 'r.trial_id',
  seed: 'r.seed',
  backend: 'r.backend',
  started_at: 'r.started_at',
  ended_at: 'r.ended_at',
  attempt: 'r.attempt',
  squash_version: 'r.squash_version',
  is_baseline: 'r.is_baseline',
};

const bind = (v: Literal): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
const marks = (n: number) => Array(n).fill('?').join(', ');

/** The side table behind a kind, and the extra condition that picks its final rows. */
const TABLES = {
  metrics: { table: 'metrics', where: 'key = ? AND step = 0' },
  params: { table: 'params', where: 'key = ?' },
  tags: { table: 'tags', where: 'key = ?' },
} as const;

/** Column holding a value of the literal's type, with the type check a param needs. */
function typedColumn(kind: 'metrics' | 'params' | 'tags', v: Literal): { guard: string; col: string } {
  if (kind === 'metrics' || kind === 'tags') return { guard: '', col: 'value' };
  if (typeof v === 'number') return { guard: "type = 'number' AND ", col: 'value_num' };
  if (typeof v === 'boolean') return { guard: "type = 'boolean' AND ", col: 'value_num' };
  return { guard: "type = 'string' AND ", col: 'value_text' };
}

/** A leaf: its row-level condition `cond` (over the side table's columns, or run columns for attributes). */
interface Leaf {
  ident: Ident;
  cond: SqlFragment;
  /** `!=`, `not in`, `not like`: the key must be present and `cond` not hold. */
  negated: boolean;
}

function leafSql({ ident, cond, negated }: Leaf): SqlFragment {
  if (ident.kind === 'attributes') {
    const key = ident.key as AttributeName;
    const c = negated ? `(${cond.sql}) IS NOT 1` : cond.sql;
    return { sql: ATTRIBUTES[key].nullable ? `(${COLUMNS[key]} IS NOT NULL AND ${c})` : `(${c})`, params: cond.params };
  }
  const t = TABLES[ident.kind];
  const c = negated ? `(${cond.sql}) IS NOT 1` : `(${cond.sql})`;
  return {
    sql: `(r.id IN (SELECT run_id FROM ${t.table} WHERE ${t.where} AND ${c}))`,
    params: [ident.key, ...cond.params],
  };
}

function column(ident: Ident, v: Literal): { guard: string; col: string } {
  return ident.kind === 'attributes'
    ? { guard: '', col: COLUMNS[ident.key as AttributeName] }
    : typedColumn(ident.kind, v);
}

function inCond(ident: Ident, values: Literal[]): SqlFragment {
  // One IN per value type: params.bits in (4, 'auto') tests numbers and strings separately.
  const groups = new Map<string, Literal[]>();
  for (const v of values) {
    const { guard, col } = column(ident, v);
    const k = `${guard}${col}`;
    groups.set(k, [...(groups.get(k) ?? []), v]);
  }
  const sql = [...groups].map(([k, vs]) => `(${k} IN (${marks(vs.length)}))`).join(' OR ');
  return { sql, params: [...groups.values()].flat().map(bind) };
}

/** A filter as an SQL boolean over `r` and `e` (see RUNS_FROM); every node yields 0 or 1, never NULL. */
export function filterSql(e: Expr): SqlFragment {
  switch (e.type) {
    case 'and':
    case 'or': {
      const l = filterSql(e.left);
      const r = filterSql(e.right);
      return { sql: `(${l.sql} ${e.type.toUpperCase()} ${r.sql})`, params: [...l.params, ...r.params] };
    }
    case 'not': {
      const x = filterSql(e.expr);
      return { sql: `(NOT ${x.sql})`, params: x.params };
    }
    case 'cmp': {
      const { guard, col } = column(e.ident, e.value);
      const negated = e.op === '!=';
      return leafSql({
        ident: e.ident,
        negated,
        cond: { sql: `${guard}${col} ${negated ? '=' : e.op} ?`, params: [bind(e.value)] },
      });
    }
    case 'in':
      return leafSql({ ident: e.ident, negated: e.negated, cond: inCond(e.ident, e.values) });
    case 'like': {
      const { guard, col } = column(e.ident, '');
      const target = e.caseInsensitive ? `lower(${col})` : col;
      return leafSql({
        ident: e.ident,
        negated: e.negated,
        cond: { sql: `${guard}${target} GLOB ?`, params: [likeToGlob(e.pattern, e.caseInsensitive)] },
      });
    }
    case 'null': {
      if (e.ident.kind === 'attributes') {
        return {
          sql: `(${COLUMNS[e.ident.key as AttributeName]} IS ${e.negated ? 'NOT ' : ''}NULL)`,
          params: [],
        };
      }
      const t = TABLES[e.ident.kind];
      return {
        sql: `(r.id ${e.negated ? '' : 'NOT '}IN (SELECT run_id FROM ${t.table} WHERE ${t.where}))`,
        params: [e.ident.key],
      };
    }
  }
}

/**
 * An identifier's value per run, as a scalar SQL expression (NULL when absent). Params yield
 * value_num or value_text; `withType` adds the param's type so callers can restore booleans.
 */
export function valueSql(ident: Ident, withType = false): SqlFragment {
  if (ident.kind === 'attributes') return { sql: COLUMNS[ident.key as AttributeName], params: [] };
  const t = TABLES[ident.kind];
  const what =
    ident.kind === 'params'
      ? withType
        ? 'type'
        : "CASE type WHEN 'string' THEN value_text ELSE value_num END"
      : 'value';
  return { sql: `(SELECT ${what} FROM ${t.table} WHERE run_id = r.id AND ${t.where})`, params: [ident.key] };
}

/** `SELECT r.id AS run_id FROM … WHERE <filter> ORDER BY r.rowid`: the ids of matching runs. */
export function toSql(expr: Expr | null, opts: { experiment?: string } = {}): SqlFragment {
  const where: SqlFragment[] = [];
  if (expr) where.push(filterSql(expr));
  if (opts.experiment !== undefined) where.push({ sql: 'e.name = ?', params: [opts.experiment] });
  const clause = where.length ? ` WHERE ${where.map((w) => w.sql).join(' AND ')}` : '';
  return {
    sql: `SELECT r.id AS run_id FROM ${RUNS_FROM}${clause} ORDER BY r.rowid`,
    params: where.flatMap((w) => w.params),
  };
}
