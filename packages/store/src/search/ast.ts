import { ConfigError } from '@squash/core';

/** The four namespaces a filter can name, as in MLflow's search syntax. */
export const IDENT_KINDS = ['metrics', 'params', 'tags', 'attributes'] as const;
export type IdentKind = (typeof IDENT_KINDS)[number];

/**
 * The run attributes a filter can name, with their value type; `nullable` ones can be absent
 * (`is null`). Each consumer maps them to where it finds them (SQL columns, RunView fields).
 */
export const ATTRIBUTES = {
  run_id: { type: 'string', nullable: false },
  experiment: { type: 'string', nullable: false },
  sweep: { type: 'string', nullable: false },
  label: { type: 'string', nullable: false },
  status: { type: 'string', nullable: false },
  trial_id: { type: 'string', nullable: false },
  seed: { type: 'number', nullable: false },
  backend: { type: 'string', nullable: true },
  started_at: { type: 'string', nullable: true },
  ended_at: { type: 'string', nullable: true },
  attempt: { type: 'number', nullable: false },
  squash_version: { type: 'string', nullable: true },
  is_baseline: { type: 'boolean', nullable: false },
} as const satisfies Record<string, { type: 'string' | 'number' | 'boolean'; nullable: boolean }>;
export type AttributeName = keyof typeof ATTRIBUTES;
export const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTES) as AttributeName[];

/** `metrics.accuracy`, `params.bits`, `attributes.status`; `column` is 1-based in the source text. */
export interface Ident {
  kind: IdentKind;
  key: string;
  column: number;
}

export type Literal = number | string | boolean;
export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * A parsed filter. Every node is two-valued (true/false, never unknown): a condition on a key a run
 * lacks is false, including the negated forms (`!=`, `not in`, `not like`), while `not (…)` is plain
 * negation. `column` is where the node starts (for `and`/`or`: the operator), 1-based.
 */
export type Expr =
  | { type: 'and' | 'or'; left: Expr; right: Expr; column: number }
  | { type: 'not'; expr: Expr; column: number }
  | { type: 'cmp'; ident: Ident; op: CmpOp; value: Literal; column: number }
  | { type: 'in'; ident: Ident; values: Literal[]; negated: boolean; column: number }
  | { type: 'null'; ident: Ident; negated: boolean; column: number }
  | { type: 'like'; ident: Ident; pattern: string; negated: boolean; caseInsensitive: boolean; column: number };

/** A bad filter, order-by or column list: exit code 2; the message names the 1-based column. */
export class QueryError extends ConfigError {
  readonly source: string;
  readonly column: number;

  constructor(source: string, column: number, message: string, what = 'filter') {
    super(`${what === 'filter' ? '' : `in ${what}, `}column ${column}: ${message}`, {
      location: { path: what, column },
    });
    this.source = source;
    this.column = column;
  }

  /** The source text with a caret under the offending column, for terminals. */
  caret(): string {
    return `${this.source}\n${' '.repeat(Math.max(0, this.column - 1))}^`;
  }
}

/** `params.bits`, or `params.\`odd key\`` when the key has characters a bare key cannot. */
export function identName(ident: Pick<Ident, 'kind' | 'key'>): string {
  if (ident.kind === 'attributes') return ident.key;
  return /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/.test(ident.key)
    ? `${ident.kind}.${ident.key}`
    : `${ident.kind}.\`${ident.key.replace(/`/g, '``')}\``;
}

/** Every identifier a filter mentions, first appearance first, without duplicates. */
export function identsOf(expr: Expr | null): Ident[] {
  const out = new Map<string, Ident>();
  const walk = (e: Expr): void => {
    if ('left' in e) {
      walk(e.left);
      walk(e.right);
    } else if ('expr' in e) walk(e.expr);
    else if (!out.has(identName(e.ident))) out.set(identName(e.ident), e.ident);
  };
  if (expr) walk(expr);
  return [...out.values()];
}
