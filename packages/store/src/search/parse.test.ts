import { describe, expect, it } from 'vitest';
import { ConfigError } from '@squash/core';
import { parseFilter, QueryError, type Expr } from './index.js';

/** The AST without source columns, for compact expectations. */
function strip(e: unknown): unknown {
  if (Array.isArray(e)) return e.map(strip);
  if (e && typeof e === 'object')
    return Object.fromEntries(
      Object.entries(e)
        .filter(([k]) => k !== 'column')
        .map(([k, v]) => [k, strip(v)]),
    );
  return e;
}
const m = (key: string) => ({ kind: 'metrics', key });
const p = (key: string) => ({ kind: 'params', key });
const t = (key: string) => ({ kind: 'tags', key });
const a = (key: string) => ({ kind: 'attributes', key });
const cmp = (ident: object, op: string, value: unknown) => ({ type: 'cmp', ident, op, value });

const GOOD: Array<[string, unknown]> = [
  ['metrics.accuracy > 0.9', cmp(m('accuracy'), '>', 0.9)],
  ['params.prune-weights.retention<=0.5', cmp(p('prune-weights.retention'), '<=', 0.5)],
  ['metrics.layer.dense_1/kernel.kept = 1', cmp(m('layer.dense_1/kernel.kept'), '=', 1)],
  ['metrics.dense/kernel:0 != -1.5e-3', cmp(m('dense/kernel:0'), '!=', -0.0015)],
  ["params.`odd key` = 'v'", cmp(p('odd key'), '=', 'v')],
  ['params.`a``b` = .5', cmp(p('a`b'), '=', 0.5)],
  ['params.x = "a\\"b\\\\c"', cmp(p('x'), '=', 'a"b\\c')],
  ["params.x = 'it''s'", cmp(p('x'), '=', "it's")],
  ['params.x == 1E3', cmp(p('x'), '=', 1000)],
  ['params.x <> -2', cmp(p('x'), '!=', -2)],
  ['params.flag = TRUE', cmp(p('flag'), '=', true)],
  [
    'Metrics.acc >= 1 AND Attributes.STATUS = "FAILED"',
    { type: 'and', left: cmp(m('acc'), '>=', 1), right: cmp(a('status'), '=', 'FAILED') },
  ],
  [
    "attributes.status in ('FINISHED', 'FAILED')",
    { type: 'in', ident: a('status'), values: ['FINISHED', 'FAILED'], negated: false },
  ],
  [
    "params.bits not in (4, 8, 'auto', false)",
    { type: 'in', ident: p('bits'), values: [4, 8, 'auto', false], negated: true },
  ],
  ['tags.owner is null', { type: 'null', ident: t('owner'), negated: false }],
  ['tags.owner IS NOT NULL', { type: 'null', ident: t('owner'), negated: true }],
  ["tags.owner like 'a%'", { type: 'like', ident: t('owner'), pattern: 'a%', negated: false, caseInsensitive: false }],
  [
    "tags.owner not ilike 'a\\_%'",
    { type: 'like', ident: t('owner'), pattern: 'a\\_%', negated: true, caseInsensitive: true },
  ],
  ['metrics.a between 1 and 2', { type: 'and', left: cmp(m('a'), '>=', 1), right: cmp(m('a'), '<=', 2) }],
  ['metrics.a not between 1 and 2', { type: 'or', left: cmp(m('a'), '<', 1), right: cmp(m('a'), '>', 2) }],
  // Precedence: not > and > or; and/or are left-associative.
  [
    'metrics.a = 1 or metrics.b = 2 and metrics.c = 3',
    {
      type: 'or',
      left: cmp(m('a'), '=', 1),
      right: { type: 'and', left: cmp(m('b'), '=', 2), right: cmp(m('c'), '=', 3) },
    },
  ],
  [
    'metrics.a = 1 and metrics.b = 2 or metrics.c = 3',
    {
      type: 'or',
      left: { type: 'and', left: cmp(m('a'), '=', 1), right: cmp(m('b'), '=', 2) },
      right: cmp(m('c'), '=', 3),
    },
  ],
  [
    '(metrics.a = 1 or metrics.b = 2) and metrics.c = 3',
    {
      type: 'and',
      left: { type: 'or', left: cmp(m('a'), '=', 1), right: cmp(m('b'), '=', 2) },
      right: cmp(m('c'), '=', 3),
    },
  ],
  [
    'not metrics.a = 1 and metrics.b = 2',
    { type: 'and', left: { type: 'not', expr: cmp(m('a'), '=', 1) }, right: cmp(m('b'), '=', 2) },
  ],
  ['not not (metrics.a = 1)', { type: 'not', expr: { type: 'not', expr: cmp(m('a'), '=', 1) } }],
  [
    'metrics.a = 1 or metrics.b = 2 or metrics.c = 3',
    {
      type: 'or',
      left: { type: 'or', left: cmp(m('a'), '=', 1), right: cmp(m('b'), '=', 2) },
      right: cmp(m('c'), '=', 3),
    },
  ],
];

describe('parseFilter', () => {
  it.each(GOOD)('parses %s', (text, ast) => {
    expect(strip(parseFilter(text))).toEqual(ast);
  });

  it('records 1-based source columns on every node', () => {
    const e = parseFilter('metrics.a > 1 or not tags.b is null') as Extract<Expr, { left: Expr }>;
    expect(e.column).toBe(15);
    expect(e.left).toMatchObject({ column: 1, ident: { column: 1 } });
    expect(e.right).toMatchObject({ type: 'not', column: 18, expr: { column: 22, ident: { column: 22 } } });
  });
});

const BAD: Array<[string, string | RegExp]> = [
  ['metrics.accuracy>', "column 18: expected a value after '>', got end of input"],
  ['metrics.accuracy > ', "column 20: expected a value after '>', got end of input"],
  ['metric.accuracy > 1', "column 1: unknown identifier kind 'metric'; did you mean 'metrics'?"],
  ['foo.accuracy > 1', "column 1: unknown identifier kind 'foo'; expected metrics, params, tags, attributes"],
  ["attributes.stauts = 'FINISHED'", "column 12: unknown attribute 'stauts'; did you mean 'status'?"],
  ["attributes.colour = 'x'", /^column 12: unknown attribute 'colour'; expected one of run_id, experiment/],
  [
    "status = 'FINISHED'",
    /^column 1: expected an identifier \(metrics.<key>.*got 'status'; did you mean 'attributes.status'\?$/,
  ],
  ['metrics.a > 1 and', /^column 18: expected an identifier .* got end of input$/],
  ['(metrics.a > 1', "column 15: expected ')' to close the '(' at column 1, got end of input"],
  ['metrics.a > 1)', "column 14: expected 'and', 'or' or end of input, got ')'"],
  ['metrics.a > 1 metrics.b > 2', "column 15: expected 'and', 'or' or end of input, got 'metrics.b'"],
  ["params.x = 'abc", "column 12: unterminated string (no closing ')"],
  ['params.`abc = 1', 'column 8: unterminated quoted key (no closing `)'],
  ["metrics.a = 'x'", 'column 13: metrics.a is a number; got a string'],
  ['tags.ticket = 42', "column 15: tags are text; quote the value: '42'"],
  ["attributes.seed = '3'", 'column 19: attributes.seed is a number; got a string'],
  ['attributes.is_baseline = 1', 'column 26: attributes.is_baseline is a boolean; got a number'],
  ["attributes.status = 'finished'", "column 21: unknown status 'finished'; did you mean 'FINISHED'?"],
  ["attributes.status in ('DONE')", /^column 23: unknown status 'DONE'; expected one of SCHEDULED/],
  ['params.x = null', "column 12: use 'is null' or 'is not null' to test for a missing value"],
  ['params.x in ()', "column 14: expected a value after '(', got ')'"],
  ['params.x in (1 2)', "column 16: expected ',' or ')' in the 'in' list, got number 2"],
  ['params.x in 1', "column 13: expected '(' after 'in', got number 1"],
  ['params.x is nul', "column 13: expected 'null' after 'is', got 'nul'"],
  ["metrics.a like 'x%'", "column 11: 'like' needs a text identifier; metrics.a is a number"],
  ['params.x like 3', "column 15: expected a quoted pattern after 'like', got number 3"],
  ['params.x between 1 or 2', "column 20: expected 'and' after '1', got 'or'"],
  [
    'params.x',
    /^column 9: expected a comparison \(=, !=, <, <=, >, >=\), 'in', 'like', 'between' or 'is null' after params.x, got end of input$/,
  ],
  ['params.x not = 1', "column 14: expected 'in', 'like' or 'between' after 'not' after params.x, got '='"],
  ['params.x @ 1', "column 10: unexpected '@'"],
  ['params. = 1', "column 8: expected a key after 'params.' (quote odd keys in backticks: params.`my key`)"],
  ['params.x ! 1', "column 10: unexpected '!' (use '!=' or 'not')"],
  ['params.x = 8bit', "column 13: unexpected 'b' after number 8"],
  ['metrics.a = 1; DROP TABLE runs', "column 14: unexpected ';'"],
  ['metrics.a = 1 -- comment', "column 15: unexpected '-'"],
  ['`odd` = 1', /^column 1: unexpected '`'/],
  ['', /^column 1: expected an identifier .* got end of input$/],
  [`${'('.repeat(100)}metrics.a = 1${')'.repeat(100)}`, 'column 65: filter nested more than 64 deep'],
  [`params.x like '${'%_'.repeat(501)}'`, "column 15: a 'like' pattern of more than 1000 characters"],
  [
    Array.from({ length: 300 }, (_, i) => `metrics.a = ${i}`).join(' or '),
    `column ${Array.from({ length: 256 }, (_, i) => `metrics.a = ${i} or `).join('').length + 1}: more than 256 conditions`,
  ],
];

describe('parse errors', () => {
  const cases = BAD.map(
    ([text, message]) => [text.length > 60 ? `${text.slice(0, 57)}...` : text, text, message] as const,
  );
  it.each(cases)('rejects %j', (_name, text, message) => {
    let err: unknown;
    try {
      parseFilter(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QueryError);
    if (typeof message === 'string') expect((err as Error).message).toBe(message);
    else expect((err as Error).message).toMatch(message);
  });

  it('is a ConfigError with exit code 2, a location and a caret excerpt', () => {
    try {
      parseFilter('metrics.accuracy >');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const q = e as QueryError;
      expect(q.exitCode).toBe(2);
      expect(q.location).toEqual({ path: 'filter', column: 19 });
      expect(q.describe()).toBe("filter: column 19: expected a value after '>', got end of input");
      expect(q.caret()).toBe('metrics.accuracy >\n                  ^');
    }
  });
});
