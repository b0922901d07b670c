import { describe, expect, it } from 'vitest';
import {
  type Cell,
  escapeHtml,
  renderCsv,
  renderHtml,
  renderJson,
  renderMarkdown,
  renderTerminal,
  type Table,
} from './index.js';
import { csvField, markdownText, terminalText } from './neutralise.js';
import { fakeRuns } from './__tests__/fake_runs.js';

/** Strings an experiment file or a stored run may carry, each with what it would do if printed raw. */
const HOSTILE: Array<[name: string, value: string]> = [
  ['CSI colour', '\x1b[31mred\x1b[0m'],
  ['OSC 8 hyperlink', '\x1b]8;;https://evil.example\x07click me\x1b]8;;\x07'],
  ['OSC title', '\x1b]0;owned\x1b\\'],
  ['bell', 'ding\x07'],
  ['carriage return', 'FINISHED\rFAILED  '],
  ['backspace', 'good\b\b\b\bbad!'],
  ['C1 CSI', '\u009b2J'],
  ['NUL and DEL', 'a\u0000b\u007fc'],
  ['bidi override', 'model\u202egnp.exe'],
  ['bidi isolate', '\u2066x\u2069 \u2067y\u2069 \u2068z\u2069'],
  ['line separator', 'a\u2028b\u2029c'],
  ['newline', 'two\nlines'],
  ['tab', 'a\tb'],
  ['pipe', 'a | b'],
  ['formula', '=HYPERLINK("https://evil.example","x")'],
  ['plus formula', '+1+cmd|" /C calc"!A0'],
  ['minus formula', '-2+3'],
  ['at formula', '@SUM(A1:A9)'],
  ['tab formula', '\t=1+1'],
  ['CR formula', '\r=1+1'],
  ['html', '<img src=x onerror="alert(1)"> & <b>'],
];

/** Every character no output may carry raw (tab, LF and CR are allowed where the format says). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for raw control characters
const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

const table = (value: Cell): Table => ({
  title: typeof value === 'string' ? `title ${value}` : 'numbers',
  columns: [
    { key: 'name', title: 'name', align: 'left' },
    { key: 'v', title: typeof value === 'string' ? value : 'v', align: 'left' },
  ],
  rows: [{ name: 'x', v: value }],
});

describe.each(HOSTILE)('%s', (_name, value) => {
  it('terminal: shown escaped, never interpreted', () => {
    const out = renderTerminal(table(value), 80);
    expect(out).not.toMatch(RAW_CONTROL);
    expect(out).not.toContain('\t');
    expect(out.split('\n').every((l) => !l.includes('\r'))).toBe(true);
    // Title, blank, head, rule, one row: a newline or \r in the value adds no line.
    expect(out.split('\n')).toHaveLength(6);
  });

  it('markdown: escaped, the row keeps its cells', () => {
    const out = renderMarkdown(table(value));
    expect(out).not.toMatch(RAW_CONTROL);
    expect(out).not.toMatch(/[\t\r]/);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    // Unescaped pipes: the row has exactly three (two cells).
    expect(lines[4]!.match(/(?<!\\)(\\\\)*\|/g)).toHaveLength(3);
    expect(out).not.toMatch(/(?<!\\)</);
  });

  it('csv: no control characters, no formula', () => {
    const out = renderCsv(table(value));
    const [head, row] = out.split('\r\n');
    for (const line of [head!, row!]) {
      expect(line).not.toMatch(RAW_CONTROL);
      expect(line).not.toMatch(/[\t\r\n]/);
    }
    const cell = row!.slice(2); // after "x,"
    const unquoted = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
    expect(unquoted).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('json: exact (parses back to the same string) and safe to print', () => {
    const out = renderJson(table(value));
    expect(out).not.toMatch(RAW_CONTROL);
    const doc = JSON.parse(out) as { title: string; columns: Array<{ title: string }>; rows: Array<{ v: string }> };
    expect(doc.rows[0]!.v).toBe(value);
    expect(doc.title).toBe(`title ${value}`);
    expect(doc.columns[1]!.title).toBe(value);
  });

  it('html: entities and visible escapes, in text and attributes', () => {
    const out = escapeHtml(value);
    expect(out).not.toMatch(RAW_CONTROL);
    expect(out).not.toMatch(/[<>"']/);
  });
});

describe('neutralise', () => {
  it('shows controls as escapes a reader recognises', () => {
    expect(terminalText('\x1b[31m')).toBe('\\x1b[31m');
    expect(terminalText('a\nb\tc\rd')).toBe('a\\nb\\tc\\rd');
    expect(terminalText('\u009b\u202e\u2066\u061c')).toBe('\\x9b\\u202e\\u2066\\u061c');
    expect(terminalText('plain → ünïcode ±')).toBe('plain → ünïcode ±');
    expect(markdownText('a|b\\c<d&e\nf')).toBe('a\\|b\\\\c\\<d\\&e\\\\nf');
  });

  it('csv: formulas get a quote, numbers stay numbers', () => {
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@x')).toBe("'@x");
    expect(csvField('+x')).toBe("'+x");
    expect(csvField('=a,b')).toBe(`"'=a,b"`);
    expect(csvField(-0.0065)).toBe('-0.0065');
    expect(csvField('-0.0065')).toBe('-0.0065');
    expect(csvField('-1e-3')).toBe('-1e-3');
    expect(csvField('+5')).toBe('+5');
    expect(csvField(true)).toBe('true');
    expect(csvField(null)).toBe('');
    expect(csvField('a - b')).toBe('a - b');
  });

  it('the html report carries no raw control or bidi character from any run field', () => {
    const evil = '\x1b]8;;https://evil.example\x07x\x1b]8;;\x07\u202e\u009b';
    const runs = fakeRuns().map((r, i) =>
      i === 3
        ? {
            ...r,
            sweep: `s${evil}`,
            label: `l${evil}`,
            tags: { [`k${evil}`]: `v${evil}` },
            params: { ...r.params, [`p.${evil}`]: `v${evil}` },
            status: 'FAILED' as const,
            error: `boom${evil}\nsecond line`,
          }
        : r,
    );
    const page = renderHtml(`exp${evil}`, runs);
    expect(page).not.toMatch(RAW_CONTROL);
    expect(page).toContain('boom\\x1b]8;;https://evil.example\\x07x');
  });
});
