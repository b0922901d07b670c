import { describe, expect, it } from 'vitest';
import type { RunView } from '@squash/contract';
import { fakeRuns, XSS_ERROR, XSS_LABEL } from './__tests__/fake_runs.js';
import { escapeHtml, renderHtml, reportPlots } from './index.js';

const PLOT_IDS = [
  'acc-bytes',
  'acc-weight-bits',
  'acc-retention',
  'acc-clip',
  'acc-activation-bits',
  'layer-sizes',
  'sensitivity-prune-weights',
];

const svgOf = (html: string, id: string) => html.match(new RegExp(`<svg class="plot" id="${id}"[\\s\\S]*?</svg>`))?.[0];
const count = (s: string, needle: RegExp) => (s.match(needle) ?? []).length;

describe('renderHtml', () => {
  const runs = fakeRuns({ seeds: 2, label: XSS_LABEL, error: XSS_ERROR });
  const html = renderHtml('mnist <i>&"x"</i>', runs, { generatedAt: '2025-11-27 <now>' });

  it('is one self-contained page: CSP, inline style, no script, nothing to fetch', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    expect(html).toMatch(/<style>[\s\S]+<\/style>/);
    expect(/<script/i.test(html)).toBe(false);
    expect(/<[^>]*\s(src|href)=/i.test(html)).toBe(false);
    expect(html.match(/https?:\/\/[^"\s]*/g)?.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
    expect(html.trimEnd().endsWith('</body></html>')).toBe(true);
    expect(renderHtml('mnist <i>&"x"</i>', runs, { generatedAt: '2025-11-27 <now>' })).toBe(html);
  });

  it('draws every plot with axes, ticks, marks and a legend', () => {
    for (const id of PLOT_IDS) {
      const svg = svgOf(html, id);
      expect(svg, id).toBeDefined();
      expect(count(svg!, /class="(series|mark[^"]*|bar)"/g), id).toBeGreaterThan(0);
      expect(count(svg!, /class="tick"/g), id).toBeGreaterThanOrEqual(4);
      expect(svg, id).toContain('class="legend"');
      expect(svg, id).toMatch(/class="title"[^>]*>[^<]+</);
    }
    expect(svgOf(html, 'acc-bytes')).toMatch(/Pareto front \(\d+ runs\)/);
    expect(svgOf(html, 'acc-bytes')).toMatch(/<path class="series" d="M[^"]*H[^"]*V/); // the step line
    expect(svgOf(html, 'acc-weight-bits')).toContain('scheme=kmeans');
    expect(svgOf(html, 'layer-sizes')).toContain('dense_1/kernel');
    expect(svgOf(html, 'sensitivity-prune-weights')).toContain('dense_2/kernel');
  });

  it('escapes every string that comes from the experiment', () => {
    expect(html).not.toContain(XSS_LABEL);
    expect(html).toContain(escapeHtml(XSS_LABEL));
    expect(escapeHtml(XSS_LABEL)).toBe(
      '&lt;script&gt;window.__pwned=1&lt;/script&gt; &quot;quoted&quot; &amp; &lt;b&gt;',
    );
    expect(html).toContain('<title>Squash report: mnist &lt;i&gt;&amp;&quot;x&quot;&lt;/i&gt;</title>');
    expect(html).not.toContain('<i>&"x"</i>');
    expect(html).not.toContain('<img');
    expect(html).toContain(escapeHtml(XSS_ERROR));
    expect(html).toContain('<span class="tag">&lt;k&gt;=&quot;v&quot; &amp; &lt;i&gt;</span>');
    expect(html).toContain('generated 2025-11-27 &lt;now&gt;');
  });

  it('escapes params in attributes, sweeps and scheme names in plots', () => {
    const evil: RunView[] = fakeRuns().map((r) =>
      r.sweep === 'weight-bits'
        ? { ...r, sweep: '</svg><b>sweep', params: { ...r.params, 'quantize-weights.scheme': `"><b onmouseover=x>` } }
        : r,
    );
    const page = renderHtml('e', evil);
    expect(page).not.toMatch(/<b[ >]/);
    expect(page).toContain('&lt;/svg&gt;&lt;b&gt;sweep');
    expect(page).toContain('scheme=&quot;&gt;&lt;b onmouseover=x&gt;');
  });

  it('omits a plot that has no data, with a note', () => {
    const page = renderHtml(
      'e',
      fakeRuns().filter((r) => r.isBaseline || r.sweep === 'clip'),
    );
    expect(svgOf(page, 'acc-clip')).toBeDefined();
    expect(svgOf(page, 'acc-weight-bits')).toBeUndefined();
    expect(page).toContain(
      '<figure class="card empty" data-plot="acc-weight-bits"><h3>Accuracy vs weight bits</h3><p class="note">No finished runs with weight bits',
    );
    expect(page).toContain('No per-layer sweep (no *.layer param): plot omitted.');
    const none = renderHtml('e', []);
    expect(count(none, /<svg class="plot"/g)).toBe(0);
    expect(count(none, /plot omitted/g)).toBe(7);
  });

  it('thins the scatter and the table for large experiments, keeping the front', () => {
    const big = fakeRuns({ total: 5000 });
    const page = renderHtml('big', big, { maxPoints: 300, maxTableRows: 200 });
    const scatter = svgOf(page, 'acc-bytes')!;
    const rings = count(scatter, /class="mark ring"/g);
    expect(rings).toBeGreaterThan(0);
    expect(count(scatter, /class="mark"/g)).toBeLessThanOrEqual(300);
    expect(scatter).toMatch(/showing \d+ of 4\d{3} runs/);
    const tbody = page.match(/<tbody>([\s\S]*?)<\/tbody>/)![1]!;
    expect(count(tbody, /<tr/g)).toBe(200);
    expect(count(tbody, /<tr class="front/g)).toBe(rings);
    expect(page).toContain('showing 200 of 5000 rows (the Pareto front, then the first in table order)');
  });

  it('reportPlots lists the figures in page order', () => {
    expect(reportPlots(runs).map((p) => p.id)).toEqual(PLOT_IDS);
  });
});
