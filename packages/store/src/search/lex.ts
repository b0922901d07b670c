import { QueryError } from './ast.js';

/** One token; `col` is 1-based, `text` the source it came from (for messages). */
export type Token =
  | { t: 'word'; col: number; text: string } // a bare word: keyword, true/false, or a name without a dot
  | { t: 'ident'; col: number; text: string; prefix: string; key: string } // prefix.key
  | { t: 'num'; col: number; text: string; value: number }
  | { t: 'str'; col: number; text: string; value: string }
  | { t: 'op'; col: number; text: '=' | '!=' | '<' | '<=' | '>' | '>=' }
  | { t: '(' | ')' | ','; col: number; text: string }
  | { t: 'eof'; col: number; text: '' };

const WORD_START = /[A-Za-z_]/;
const WORD_CHAR = /[A-Za-z0-9_.\-/:]/;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0' };

/** How a token reads in an error message. */
export function describeToken(tok: Token): string {
  switch (tok.t) {
    case 'eof':
      return 'end of input';
    case 'str':
      return `string ${tok.text}`;
    case 'num':
      return `number ${tok.text}`;
    default:
      return `'${tok.text}'`;
  }
}

/** A quoted run of text starting at `start` (the quote); doubled quotes and backslash escapes. */
function quoted(
  src: string,
  start: number,
  what: string,
  err: (col: number, msg: string) => QueryError,
): { value: string; end: number } {
  const q = src[start]!;
  let value = '';
  let i = start + 1;
  for (;;) {
    if (i >= src.length) throw err(start + 1, `unterminated ${what} (no closing ${q})`);
    const c = src[i]!;
    if (c === q && src[i + 1] === q) {
      value += q;
      i += 2;
    } else if (c === q) {
      return { value, end: i + 1 };
    } else if (c === '\\' && q !== '`' && i + 1 < src.length) {
      const e = src[i + 1]!;
      // Unknown escapes keep their backslash, so LIKE patterns such as 'a\_b' read as written.
      value += ESCAPES[e] ?? `\\${e}`;
      i += 2;
    } else {
      value += c;
      i++;
    }
  }
}

/** Splits a filter into tokens; throws a QueryError naming the column of anything it cannot read. */
export function lex(src: string, what = 'filter'): Token[] {
  const err = (col: number, msg: string) => new QueryError(src, col, msg, what);
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const col = i + 1;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ t: c, col, text: c });
      i++;
    } else if ('=!<>'.includes(c)) {
      const two = src.slice(i, i + 2);
      const op = two === '!=' || two === '<>' ? '!=' : two === '<=' || two === '>=' ? two : two === '==' ? '=' : c;
      if (op === '!') throw err(col, "unexpected '!' (use '!=' or 'not')");
      out.push({ t: 'op', col, text: op as '=' | '!=' | '<' | '<=' | '>' | '>=' });
      i += op === c && two !== '==' ? 1 : 2;
    } else if (c === "'" || c === '"') {
      const { value, end } = quoted(src, i, 'string', err);
      out.push({ t: 'str', col, text: src.slice(i, end), value });
      i = end;
    } else if (/[\d.-]/.test(c)) {
      const m = NUMBER.exec(src.slice(i));
      if (!m) throw err(col, `unexpected '${c}'`);
      const next = src[i + m[0].length];
      if (next !== undefined && /[A-Za-z_.]/.test(next))
        throw err(i + m[0].length + 1, `unexpected '${next}' after number ${m[0]}`);
      out.push({ t: 'num', col, text: m[0], value: Number(m[0]) });
      i += m[0].length;
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < src.length && WORD_CHAR.test(src[j]!)) j++;
      const word = src.slice(i, j);
      const dot = word.indexOf('.');
      if (dot < 0) {
        out.push({ t: 'word', col, text: word });
      } else if (dot === word.length - 1 && src[j] === '`') {
        const { value, end } = quoted(src, j, 'quoted key', err);
        if (!value) throw err(j + 1, 'empty key in backticks');
        out.push({ t: 'ident', col, text: src.slice(i, end), prefix: word.slice(0, -1), key: value });
        j = end;
      } else if (dot === word.length - 1) {
        throw err(j + 1, `expected a key after '${word}' (quote odd keys in backticks: ${word}\`my key\`)`);
      } else {
        out.push({ t: 'ident', col, text: word, prefix: word.slice(0, dot), key: word.slice(dot + 1) });
      }
      i = j;
    } else if (c === '`') {
      throw err(col, "unexpected '`' (backticks quote a key after its kind, e.g. params.`my key`)");
    } else {
      throw err(col, `unexpected '${c}'`);
    }
  }
  out.push({ t: 'eof', col: src.length + 1, text: '' });
  return out;
}
