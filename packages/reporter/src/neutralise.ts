/**
 * Untrusted strings made harmless, one function per output format. Names, labels, tags, params,
 * error texts and metric keys come from experiment files and stored runs: a sweep named with an
 * escape sequence must not recolour, retitle (OSC), hyperlink (OSC 8) or rewrite (\r, \b) a
 * terminal, a bidi override must not reorder what a reader sees, and a cell must not become a
 * spreadsheet formula. The renderers (render.ts, html.ts) apply these to every cell, title and
 * column name, so no command can forget.
 */

/** Bidi marks, embeddings, overrides and isolates, and the line and paragraph separators. */
const BIDI = '\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069';
/**
 * What no output shows as itself: C0 controls (ESC, BEL, \b, \r, \n, \t…), DEL, C1 controls (a
 * terminal may read U+009B as CSI), and BIDI. (Built from text: these regexes match control
 * characters on purpose, which a literal would have the linter question.)
 */
const CONTROLS = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${BIDI}]`, 'g');
/** The same, less tab, line feed and carriage return: HTML shows those as white space. */
const HTML_CONTROLS = new RegExp(`[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f${BIDI}]`, 'g');
/** What JSON.stringify leaves raw of CONTROLS (it escapes C0 itself). */
const JSON_RAW = new RegExp(`[\\u007f-\\u009f${BIDI}]`, 'g');

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One control as visible text: `\n`, `\x1b`, `\u202e`. */
function visible(c: string): string {
  const code = c.charCodeAt(0);
  return (
    NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
  );
}

/** Terminal text: every control and bidi character shown escaped (`\x1b`), never interpreted. */
export function terminalText(s: string): string {
  return s.replace(CONTROLS, visible);
}

/**
 * A markdown table cell: terminal-safe, then `\`, `|`, `<` and `&` backslash-escaped (CommonMark
 * escapes any ASCII punctuation), so a value cannot end its cell, start a row, open an HTML tag or
 * spell an entity. Newlines are already `\n`.
 */
export function markdownText(s: string): string {
  return terminalText(s).replace(/[\\|<&]/g, '\\$&');
}

/** A number as a spreadsheet reads it: `-0.5`, `1e-3`. Such a cell is a value, not a formula. */
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A CSV field (RFC 4180): numbers and booleans as they are (full precision, negatives stay numbers);
 * strings terminal-safe, and prefixed with `'` when a spreadsheet would take them for a formula
 * (OWASP's CSV-injection rule: a cell starting with = + - @ tab or carriage return), then quoted
 * when they hold a comma or a quote.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  let s = terminalText(String(v));
  if (/^[=+\-@\t\r]/.test(s) && !NUMBER_TEXT.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A JSON text with the characters JSON.stringify leaves raw that a terminal or a reader may act on
 * (DEL, C1, bidi, U+2028/2029) written as \u escapes. They can only stand inside strings, and an
 * escape parses back to the same character: the document means exactly what it meant, and
 * `squash … --format json` is as safe to print as to parse. (C0 controls JSON escapes already.)
 */
export function jsonText(json: string): string {
  return json.replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * HTML text and attribute values (quoted with " or ') both: `& < > " '` as entities, and controls
 * and bidi characters shown escaped as in a terminal (tab and newlines kept: error texts are
 * preformatted). Every string that reaches the page goes through this.
 */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!)
    .replace(HTML_CONTROLS, visible);
}
