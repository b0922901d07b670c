import { display, type Table } from './table.js';

/** Aligned plain text; the widest left column is cut with … when the table exceeds `width`. */
export function renderTerminal(t: Table, width = Infinity): string {
  const cells = t.rows.map((r) => t.columns.map((c) => display(c, r[c.key])));
  const widths = t.columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i]!.length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  const leftCols = t.columns.map((c, i) => (c.align === 'left' ? i : -1)).filter((i) => i >= 0);
  while (total() > width && leftCols.length) {
    const widest = leftCols.reduce((a, b) => (widths[b]! > widths[a]! ? b : a));
    if (widths[widest]! <= 12) break;
    widths[widest] = Math.max(12, widths[widest]! - (total() - width));
  }
  const fit = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s);
  const line = (vals: string[]) =>
    vals
      .map((v, i) =>
        t.columns[i]!.align === 'right'
          ? fit(v, widths[i]!).padStart(widths[i]!)
          : fit(v, widths[i]!).padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  const out = [line(t.columns.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  return `${(t.title ? `${t.title}\n\n` : '') + out.join('\n')}\n`;
}

const mdEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(t: Table): string {
  const head = `| ${t.columns.map((c) => mdEscape(c.title)).join(' | ')} |`;
  const rule = `|${t.columns.map((c) => (c.align === 'right' ? '---:' : ':---')).join('|')}|`;
  const rows = t.rows.map((r) => `| ${t.columns.map((c) => mdEscape(display(c, r[c.key]))).join(' | ')} |`);
  return `${(t.title ? `**${mdEscape(t.title)}**\n\n` : '') + [head, rule, ...rows].join('\n')}\n`;
}

/** RFC 4180; raw values (full precision), so spreadsheets and pandas get numbers, not text. */
export function renderCsv(t: Table): string {
  const quote = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const raw = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  const lines = [
    t.columns.map((c) => quote(c.key)).join(','),
    ...t.rows.map((r) => t.columns.map((c) => quote(raw(r[c.key]))).join(',')),
  ];
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
 * like csv (full precision; absent and non-finite numbers become null), keys in column order.
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
  return `${head.slice(0, -1)},"rows":[${t.rows.length ? `\n${body}\n` : ''}]}\n`;
}
