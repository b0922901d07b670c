import { csvField, jsonText, markdownText, terminalText } from './neutralise.js';
import { display, type Table } from './table.js';

/** Narrowest a text column gets when a table is fitted to the terminal. */
const MIN_TEXT_WIDTH = 12;

/**
 * `s` in lines of at most `width` characters: the first as it is, the others indented by two
 * spaces; broken after a space or comma when one is in the second half of the line.
 */
function wrap(s: string, width: number): string[] {
  if (s.length <= width) return [s];
  const lines: string[] = [];
  let rest = s;
  let room = width;
  while (rest.length > room) {
    let cut = Math.max(rest.lastIndexOf(' ', room - 1), rest.lastIndexOf(',', room - 1)) + 1;
    if (cut <= room / 2) cut = room;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code < 0xdc00 && cut > 1) cut--; // never split a surrogate pair
    lines.push(lines.length ? `  ${rest.slice(0, cut)}` : rest.slice(0, cut));
    rest = rest.slice(cut);
    room = width - 2;
  }
  lines.push(lines.length ? `  ${rest}` : rest);
  return lines;
}

/**
 * Aligned plain text, every string terminal-safe. A table wider than `width` narrows its widest
 * text columns (to 12 at the least) and wraps their cells onto indented continuation lines: every
 * character stays visible, so labels that differ only near their end still look different.
 * Linear in the cells (no spread over rows: a 200,000-trial dry run prints).
 */
export function renderTerminal(t: Table, width = Infinity): string {
  const n = t.columns.length;
  const cells = t.rows.map((r) => t.columns.map((c) => terminalText(display(c, r))));
  const titles = t.columns.map((c) => terminalText(c.title));
  const widths = titles.map((s) => s.length);
  for (const row of cells) for (let i = 0; i < n; i++) if (row[i]!.length > widths[i]!) widths[i] = row[i]!.length;
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (n - 1);
  const leftCols = t.columns.map((c, i) => (c.align === 'left' ? i : -1)).filter((i) => i >= 0);
  while (total() > width && leftCols.length) {
    const widest = leftCols.reduce((a, b) => (widths[b]! > widths[a]! ? b : a));
    if (widths[widest]! <= MIN_TEXT_WIDTH) break;
    widths[widest] = Math.max(MIN_TEXT_WIDTH, widths[widest]! - (total() - width));
  }
  const out: string[] = [];
  if (t.title) out.push(terminalText(t.title), '');
  const emit = (vals: string[]) => {
    const parts = vals.map((v, i) => wrap(v, widths[i]!));
    let height = 1;
    for (const p of parts) if (p.length > height) height = p.length;
    for (let k = 0; k < height; k++)
      out.push(
        parts
          .map((p, i) =>
            t.columns[i]!.align === 'right' ? (p[k] ?? '').padStart(widths[i]!) : (p[k] ?? '').padEnd(widths[i]!),
          )
          .join('  ')
          .trimEnd(),
      );
  };
  emit(titles);
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) emit(row);
  return `${out.join('\n')}\n`;
}

/** GitHub-flavoured markdown; every string escaped (`|`, `\`, `<`, `&`, controls). */
export function renderMarkdown(t: Table): string {
  const out: string[] = [];
  if (t.title) out.push(`**${markdownText(t.title)}**`, '');
  out.push(`| ${t.columns.map((c) => markdownText(c.title)).join(' | ')} |`);
  out.push(`|${t.columns.map((c) => (c.align === 'right' ? '---:' : ':---')).join('|')}|`);
  for (const r of t.rows) out.push(`| ${t.columns.map((c) => markdownText(display(c, r))).join(' | ')} |`);
  return `${out.join('\n')}\n`;
}

/**
 * RFC 4180; raw values (full precision), so spreadsheets and pandas get numbers, not text; strings
 * neutralised (no control characters, no formulas: see `csvField`).
 */
export function renderCsv(t: Table): string {
  const lines = [t.columns.map((c) => csvField(c.key)).join(',')];
  for (const r of t.rows) lines.push(t.columns.map((c) => csvField(r[c.key])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export type ReportFormat = 'terminal' | 'markdown' | 'csv';
export const REPORT_FORMATS: ReportFormat[] = ['terminal', 'markdown', 'csv'];

export function renderTable(t: Table, format: ReportFormat, width?: number): string {
  switch (format) {
    case 'terminal':
      return renderTerminal(t, width);
    case 'markdown':
      return renderMarkdown(t);
    case 'csv':
      return renderCsv(t);
  }
}

/**
 * `{ title, columns: [{ key, title, align }], rows: [{ key: raw value }] }` as JSON: raw values
 * like csv (full precision; absent and non-finite numbers become null), keys in column order; exact
 * JSON, with the characters a terminal may act on \u-escaped (`jsonText`).
 */
export function renderJson(t: Table): string {
  const value = (v: unknown) =>
    v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))
      ? 'null'
      : typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : JSON.stringify(v);
  const keys = t.columns.map((c, i) => `${i ? ',' : '{'}${JSON.stringify(c.key)}:`);
  const columns = t.columns.map((c) => ({ key: c.key, title: c.title, align: c.align }));
  // One row per line: readable, diffable, and still one JSON document.
  const head = JSON.stringify({ ...(t.title !== undefined ? { title: t.title } : {}), columns });
  const body = t.rows
    .map((r) => (t.columns.length ? `${t.columns.map((c, i) => keys[i] + value(r[c.key])).join('')}}` : '{}'))
    .join(',\n');
  return jsonText(`${head.slice(0, -1)},"rows":[${t.rows.length ? `\n${body}\n` : ''}]}\n`);
}
