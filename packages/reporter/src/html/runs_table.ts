import type { RunView } from '@squash/contract';
import { display, type Table } from '../table.js';
import { escapeHtml as esc } from './escape.js';

export const DEFAULT_MAX_TABLE_ROWS = 1000;

/**
 * The comparison table as HTML: formatted like the terminal, params and tags of each trial on hover
 * and as chips. `className` styles it (`runs`; another table of runs, such as the download sizes, its own).
 */
export function tableHtml(t: Table, runs: ReadonlyMap<string, RunView>, className = 'runs'): string {
  const rows = t.rows;
  const head = t.columns
    .map((c) => `<th class="${c.align === 'right' ? 'num' : ''}" title="${esc(c.key)}">${esc(c.title)}</th>`)
    .join('');
  const body = rows.map((row) => {
    const r = typeof row.id === 'string' ? runs.get(row.id) : undefined;
    const cls = [
      row.front === true ? 'front' : '',
      r && (r.status === 'FAILED' || r.status === 'KILLED') ? 'failed' : '',
      r?.isBaseline ? 'baseline' : '',
    ]
      .filter(Boolean)
      .join(' ');
    const cells = t.columns.map((c) => {
      const text = esc(display(c, row));
      if (c.key !== 'trial' || !r) return `<td class="${c.align === 'right' ? 'num' : ''}">${text}</td>`;
      const params = Object.entries(r.params)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join('\n');
      const tags = Object.entries(r.tags)
        .map(([k, v]) => `<span class="tag">${esc(k)}=${esc(v)}</span>`)
        .join('');
      return `<td title="${esc(params)}">${text}${tags}</td>`;
    });
    return `<tr${cls ? ` class="${cls}"` : ''}>${cells.join('')}</tr>`;
  });
  return `<table class="${className}"><caption>${esc(t.title ?? '')}</caption><thead><tr>${head}</tr></thead><tbody>${body.join('\n')}</tbody></table>`;
}

/** Failed and killed runs with their error text (at most `max`). */
export function failuresHtml(runs: readonly RunView[], max = 50): string {
  const failed = runs.filter((r) => r.status === 'FAILED' || r.status === 'KILLED' || r.error);
  if (!failed.length) return '';
  const items = failed
    .slice(0, max)
    .map(
      (r) =>
        `<li><strong>${esc(r.label)}</strong> <span class="note">(${esc(r.sweep)}, seed ${esc(r.seed)}, ${esc(r.status)})</span><pre class="error">${esc(r.error ?? 'no error text recorded')}</pre></li>`,
    );
  const more = failed.length > max ? `<p class="note">${failed.length - max} more not shown.</p>` : '';
  return `<h2>Failed runs (${failed.length})</h2><ul class="failures">${items.join('')}</ul>${more}`;
}
