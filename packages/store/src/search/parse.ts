import { RUN_STATUSES } from '@squash/contract';
import { didYouMean } from '@squash/core';
import {
  ATTRIBUTES,
  ATTRIBUTE_NAMES,
  IDENT_KINDS,
  QueryError,
  type AttributeName,
  type CmpOp,
  type Expr,
  type Ident,
  type IdentKind,
  type Literal,
} from './ast.js';
import { describeToken, lex, type Token } from './lex.js';

/** Guards against stack and SQLite expression-depth limits; real filters are far smaller. */
export const MAX_DEPTH = 64;
export const MAX_CONDITIONS = 256;
export const MAX_IN_VALUES = 1000;
/** SQLite refuses GLOB patterns past 50,000 bytes ("pattern too complex"); each character may take three. */
export const MAX_PATTERN_LENGTH = 1000;

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'like', 'ilike', 'between', 'is', 'null', 'true', 'false']);
const IDENT_HELP = 'an identifier (metrics.<key>, params.<key>, tags.<key> or attributes.<name>)';

const kw = (tok: Token, word: string) => tok.t === 'word' && tok.text.toLowerCase() === word;
const typeOf = (v: Literal) => (typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : 'a string');

/**
 * Resolves `kind.key` (kinds and attribute names case-insensitively). With `bareAttributes`, a name
 * without a kind is an attribute (order-by and column lists, whose headers are bare names).
 */
export function resolveIdent(tok: Token, err: (col: number, msg: string) => QueryError, bareAttributes = false): Ident {
  if (tok.t === 'word' && !KEYWORDS.has(tok.text.toLowerCase())) {
    const name = tok.text.toLowerCase();
    if (bareAttributes && name in ATTRIBUTES) return { kind: 'attributes', key: name, column: tok.col };
    const guess = didYouMean(name, ATTRIBUTE_NAMES);
    throw err(
      tok.col,
      `expected ${IDENT_HELP}, got '${tok.text}'${guess ? `; did you mean 'attributes.${guess}'?` : ''}`,
    );
  }
  if (tok.t !== 'ident') throw err(tok.col, `expected ${IDENT_HELP}, got ${describeToken(tok)}`);
  const kind = tok.prefix.toLowerCase();
  if (!(IDENT_KINDS as readonly string[]).includes(kind)) {
    const guess = didYouMean(kind, IDENT_KINDS);
    throw err(
      tok.col,
      `unknown identifier kind '${tok.prefix}'; ` +
        (guess ? `did you mean '${guess}'?` : `expected ${IDENT_KINDS.join(', ')}`),
    );
  }
  if (kind !== 'attributes') return { kind: kind as IdentKind, key: tok.key, column: tok.col };
  const name = tok.key.toLowerCase();
  if (!(name in ATTRIBUTES)) {
    const guess = didYouMean(name, ATTRIBUTE_NAMES);
    throw err(
      tok.col + tok.prefix.length + 1,
      `unknown attribute '${tok.key}'; ` +
        (guess ? `did you mean '${guess}'?` : `expected one of ${ATTRIBUTE_NAMES.join(', ')}`),
    );
  }
  return { kind: 'attributes', key: name, column: tok.col };
}

class Parser {
  private pos = 0;
  private depth = 0;
  private conditions = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Token[],
  ) {}

  err(col: number, msg: string): QueryError {
    return new QueryError(this.src, col, msg);
  }
  peek(): Token {
    return this.toks[this.pos]!;
  }
  next(): Token {
    return this.toks[this.pos++]!;
  }
  expectWord(word: string, after: Token): void {
    const tok = this.next();
    if (!kw(tok, word)) throw this.err(tok.col, `expected '${word}' after '${after.text}', got ${describeToken(tok)}`);
  }

  filter(): Expr {
    const e = this.or();
    const tok = this.peek();
    if (tok.t !== 'eof') throw this.err(tok.col, `expected 'and', 'or' or end of input, got ${describeToken(tok)}`);
    return e;
  }
  or(): Expr {
    let left = this.and();
    while (kw(this.peek(), 'or')) {
      const op = this.next();
      left = { type: 'or', left, right: this.and(), column: op.col };
    }
    return left;
  }
  and(): Expr {
    let left = this.unary();
    while (kw(this.peek(), 'and')) {
      const op = this.next();
      left = { type: 'and', left, right: this.unary(), column: op.col };
    }
    return left;
  }
  unary(): Expr {
    const tok = this.peek();
    if (++this.depth > MAX_DEPTH) throw this.err(tok.col, `filter nested more than ${MAX_DEPTH} deep`);
    let e: Expr;
    if (kw(tok, 'not')) {
      this.next();
      e = { type: 'not', expr: this.unary(), column: tok.col };
    } else if (tok.t === '(') {
      this.next();
      e = this.or();
      const close = this.next();
      if (close.t !== ')')
        throw this.err(close.col, `expected ')' to close the '(' at column ${tok.col}, got ${describeToken(close)}`);
    } else {
      if (++this.conditions > MAX_CONDITIONS) throw this.err(tok.col, `more than ${MAX_CONDITIONS} conditions`);
      e = this.predicate();
    }
    this.depth--;
    return e;
  }

  predicate(): Expr {
    const identTok = this.next();
    const ident = resolveIdent(identTok, (c, m) => this.err(c, m));
    const column = identTok.col;
    let tok = this.next();
    if (tok.t === 'op') return { type: 'cmp', ident, op: tok.text, value: this.value(ident, tok, tok.text), column };
    if (kw(tok, 'is')) {
      let negated = false;
      let t2 = this.next();
      if (kw(t2, 'not')) [negated, t2] = [true, this.next()];
      if (!kw(t2, 'null'))
        throw this.err(t2.col, `expected 'null' after '${negated ? 'is not' : 'is'}', got ${describeToken(t2)}`);
      return { type: 'null', ident, negated, column };
    }
    const negated = kw(tok, 'not');
    if (negated) tok = this.next();
    if (kw(tok, 'in')) return { type: 'in', ident, values: this.list(ident, tok), negated, column };
    if (kw(tok, 'like') || kw(tok, 'ilike')) {
      const pat = this.next();
      if (pat.t !== 'str')
        throw this.err(pat.col, `expected a quoted pattern after '${tok.text}', got ${describeToken(pat)}`);
      if ([...pat.value].length > MAX_PATTERN_LENGTH)
        throw this.err(pat.col, `a '${tok.text}' pattern of more than ${MAX_PATTERN_LENGTH} characters`);
      const textual =
        ident.kind === 'params' ||
        ident.kind === 'tags' ||
        (ident.kind === 'attributes' && ATTRIBUTES[ident.key as AttributeName].type === 'string');
      if (!textual)
        throw this.err(
          tok.col,
          `'${tok.text}' needs a text identifier; ${identTok.text} is ${ident.kind === 'metrics' ? 'a number' : 'not text'}`,
        );
      return { type: 'like', ident, pattern: pat.value, negated, caseInsensitive: kw(tok, 'ilike'), column };
    }
    if (kw(tok, 'between')) {
      // `x between a and b` is `x >= a and x <= b`; `not between` is `x < a or x > b` (false if x is missing).
      const lo = this.value(ident, tok, 'between');
      this.expectWord('and', this.toks[this.pos - 1]!);
      const hi = this.value(ident, tok, 'between … and');
      const [op1, op2]: CmpOp[] = negated ? ['<', '>'] : ['>=', '<='];
      return {
        type: negated ? 'or' : 'and',
        left: { type: 'cmp', ident, op: op1, value: lo, column },
        right: { type: 'cmp', ident, op: op2, value: hi, column },
        column: tok.col,
      };
    }
    const what = negated
      ? "'in', 'like' or 'between' after 'not'"
      : "a comparison (=, !=, <, <=, >, >=), 'in', 'like', 'between' or 'is null'";
    throw this.err(tok.col, `expected ${what} after ${identTok.text}, got ${describeToken(tok)}`);
  }

  list(ident: Ident, inTok: Token): Literal[] {
    const open = this.next();
    if (open.t !== '(') throw this.err(open.col, `expected '(' after 'in', got ${describeToken(open)}`);
    const values: Literal[] = [];
    for (;;) {
      values.push(this.value(ident, inTok, values.length ? ',' : '('));
      if (values.length > MAX_IN_VALUES)
        throw this.err(this.toks[this.pos - 1]!.col, `more than ${MAX_IN_VALUES} values in one 'in' list`);
      const sep = this.next();
      if (sep.t === ')') return values;
      if (sep.t !== ',') throw this.err(sep.col, `expected ',' or ')' in the 'in' list, got ${describeToken(sep)}`);
    }
  }

  /** A literal, checked against what the identifier holds. */
  value(ident: Ident, opTok: Token, after: string): Literal {
    const tok = this.next();
    let v: Literal;
    if (tok.t === 'num' || tok.t === 'str') v = tok.value;
    else if (kw(tok, 'true') || kw(tok, 'false')) v = kw(tok, 'true');
    else if (kw(tok, 'null')) throw this.err(tok.col, `use 'is null' or 'is not null' to test for a missing value`);
    else throw this.err(tok.col, `expected a value after '${after}', got ${describeToken(tok)}`);
    const name = `${ident.kind}.${ident.key}`;
    if (ident.kind === 'metrics' && typeof v !== 'number')
      throw this.err(tok.col, `${name} is a number; got ${typeOf(v)}`);
    if (ident.kind === 'tags' && typeof v !== 'string')
      throw this.err(tok.col, `tags are text; quote the value: '${tok.text}'`);
    if (ident.kind === 'attributes') {
      const want = ATTRIBUTES[ident.key as AttributeName].type;
      if (typeof v !== want) throw this.err(tok.col, `attributes.${ident.key} is a ${want}; got ${typeOf(v)}`);
      const op = opTok.t === 'op' ? opTok.text : kw(opTok, 'in') ? '=' : '<';
      if (
        ident.key === 'status' &&
        (op === '=' || op === '!=') &&
        !(RUN_STATUSES as readonly string[]).includes(v as string)
      ) {
        const guess = didYouMean(v as string, RUN_STATUSES);
        throw this.err(
          tok.col,
          `unknown status '${v}'; ` +
            (guess ? `did you mean '${guess}'?` : `expected one of ${RUN_STATUSES.join(', ')}`),
        );
      }
    }
    return v;
  }
}

/** Parses a filter such as `metrics.accuracy > 0.9 and params.bits in (4, 8)`; throws a QueryError. */
export function parseFilter(text: string): Expr {
  return new Parser(text, lex(text)).filter();
}

/** A comma-separated list of identifiers (order-by, columns); `withDirection` allows `asc`/`desc` after each. */
export function parseIdentList(
  text: string,
  what: string,
  withDirection = false,
): Array<{ ident: Ident; desc: boolean }> {
  const toks = lex(text, what);
  const err = (col: number, msg: string) => new QueryError(text, col, msg, what);
  const out: Array<{ ident: Ident; desc: boolean }> = [];
  let i = 0;
  const next = (): Token => toks[i++]!;
  for (;;) {
    const ident = resolveIdent(next(), err, true);
    let tok = next();
    let desc = false;
    if (withDirection && tok.t === 'word' && /^(asc|desc)$/i.test(tok.text)) {
      desc = tok.text.toLowerCase() === 'desc';
      tok = next();
    }
    out.push({ ident, desc });
    if (tok.t === 'eof') return out;
    if (tok.t !== ',')
      throw err(
        tok.col,
        `expected ','${withDirection ? ", 'asc', 'desc'" : ''} or end of input, got ${describeToken(tok)}`,
      );
  }
}
