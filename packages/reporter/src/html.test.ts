import { describe, expect, it } from 'vitest';
import type { Reference, RunView } from '@squash/contract';
import { fakeRuns, XSS_ERROR, XSS_LABEL } from './__tests__/fake_runs.js';
import { configKey, escapeHtml, frontRunIds, renderHtml, reportPlots } from './index.js';

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
    // Two seeds: the front joins configurations at their means.
    expect(svgOf(html, 'acc-bytes')).toMatch(/Pareto front \(\d+ configurations, mean over seeds\)/);
    expect(svgOf(renderHtml('e', fakeRuns()), 'acc-bytes')).toMatch(/Pareto front \(\d+ runs\)/);
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

  it('leaves out the plots of axes the experiment does not sweep, naming them; other empty plots get a note', () => {
    const page = renderHtml(
      'e',
      fakeRuns().filter((r) => r.isBaseline || r.sweep === 'clip'),
    );
    expect(svgOf(page, 'acc-clip')).toBeDefined();
    expect(svgOf(page, 'acc-weight-bits')).toBeUndefined();
    expect(page).not.toContain('data-plot="acc-weight-bits"');
    expect(page).not.toContain('data-plot="sensitivity"');
    // Per-layer sizes is no axis: with no compressed run on the front it stays, with its note.
    expect(count(page, /<figure class="card empty"/g)).toBe(1);
    expect(page).toContain('No compressed run on the Pareto front within 1 pt of the baseline');
    expect(page).toContain(
      'Not drawn, as the experiment does not sweep them: Accuracy vs weight bits; Accuracy vs pruning retention; Accuracy vs activation bits; Per-layer sensitivity.',
    );
    // One value of an axis is not a sweep either: every run below has the same weight bits.
    const oneBits = renderHtml(
      'e',
      fakeRuns().filter((r) => r.isBaseline || (r.sweep === 'weight-bits' && r.params['quantize-weights.bits'] === 4)),
    );
    expect(oneBits).not.toContain('data-plot="acc-weight-bits"');
    expect(oneBits).toContain('does not sweep them: Accuracy vs weight bits;');
    const none = renderHtml('e', []);
    expect(count(none, /<svg class="plot"/g)).toBe(0);
    expect(count(none, /<figure class="card empty"/g)).toBe(2); // accuracy vs size, per-layer sizes
    expect(count(none, /plot omitted/g)).toBe(2);
  });

  it('draws the per-layer sizes of the smallest front run within 1 pt of the baseline, not the smallest run', () => {
    const runs = fakeRuns();
    const svg = svgOf(renderHtml('e', runs), 'layer-sizes')!;
    expect(svg).toContain('smallest Pareto-front run within 1 pt of the baseline');
    const baseline = runs.find((r) => r.isBaseline)!.metrics.accuracy!;
    const label = svg
      .match(/<text class="subtitle"[^>]*>[^<]*<title>[^<]*\): ([^<]+)<\/title>/)![1]!
      .replace(/&gt;/g, '>');
    const picked = runs.find((r) => r.label === label)!;
    expect(picked.metrics.accuracy!).toBeGreaterThanOrEqual(baseline - 0.01);
    // It is the smallest such finished compressed run, and a smaller, much less accurate one exists.
    const accurate = runs.filter(
      (r) => r.status === 'FINISHED' && !r.isBaseline && r.metrics.accuracy! >= baseline - 0.01,
    );
    expect(Math.min(...accurate.map((r) => r.metrics.artifact_bytes!))).toBe(picked.metrics.artifact_bytes);
    const smallest = runs
      .filter((r) => r.status === 'FINISHED')
      .sort((a, b) => a.metrics.artifact_bytes! - b.metrics.artifact_bytes!)[0]!;
    expect(smallest.metrics.accuracy!).toBeLessThan(baseline - 0.01);
    expect(smallest.label).not.toBe(label);
  });

  it('shows the reference block beside the measured numbers, as the terminal report does', () => {
    const page = renderHtml('e', fakeRuns(), {
      reference: {
        source: 'Han et al. <2016>',
        rows: [{ name: 'Ref', sweep: 'baseline', metrics: { accuracy: 0.9836 } }],
      },
    });
    expect(page).toContain('<h2>Reference</h2>');
    expect(page).toContain('Reference: Han et al. &lt;2016&gt; (measured = mean over matching runs)');
    expect(page).toMatch(
      /<td class="">Ref<\/td><td class="">accuracy<\/td><td class="num">98\.36 %<\/td><td class="num">97\.\d\d %<\/td>/,
    );
    expect(renderHtml('e', fakeRuns())).not.toContain('<h2>Reference</h2>');
  });

  it('puts the published points with an accuracy and a size on the size plot, ringed and named', () => {
    const reference: Reference = {
      source: 'Han et al. 2016',
      rows: [
        { name: 'Ref', sweep: 'baseline', metrics: { accuracy: 0.9836 } },
        { name: 'Paper <P+Q+H>', sweep: 'dc', metrics: { accuracy: 0.9842, artifact_bytes: 27000 } },
      ],
    };
    const scatter = svgOf(renderHtml('e', fakeRuns(), { reference }), 'acc-bytes')!;
    const plain = svgOf(renderHtml('e', fakeRuns()), 'acc-bytes')!;
    expect(scatter).toContain('published (Paper &lt;P+Q+H&gt;)');
    expect(scatter).toContain('Paper &lt;P+Q+H&gt; (published): 98.42%, ');
    expect(count(scatter, /class="mark ring"/g)).toBe(count(plain, /class="mark ring"/g) + 1);
    // The row without a size is not a point.
    expect(scatter).not.toContain('Ref (published)');
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
    // The front is over configurations (seeds averaged): one ring per front configuration, a ★
    // on every run of one, front rows first in the table.
    const front = frontRunIds(big);
    expect(rings).toBe(new Set(big.filter((r) => front.has(r.id)).map(configKey)).size);
    expect(count(tbody, /<tr class="front/g)).toBe(Math.min(front.size, 200));
    expect(page).toContain('showing 200 of 5000 rows (the Pareto front, then the first in table order)');
  });

  it('reportPlots lists the figures in page order', () => {
    expect(reportPlots(runs).map((p) => p.id)).toEqual(PLOT_IDS);
  });
});

describe('renderHtml with searches', () => {
  const runs = fakeRuns({ seeds: 1 });
  const html = renderHtml('searched', runs, {
    searches: [
      {
        title: "Search 's<1>'",
        lines: ['best feasible: trial #2', 'model: a.sqz'],
        points: [
          { bytes: 1000, accuracy: 0.9, feasible: false, chosen: false, tip: '#1 <x>' },
          { bytes: 2000, accuracy: 0.97, feasible: true, chosen: true, tip: '#2' },
          { bytes: 4000, accuracy: 0.95, feasible: false, chosen: false, tip: '#3' },
        ],
        refs: [{ y: 0.96, label: 'accuracy >= 0.96' }],
        tables: [
          {
            title: 'chosen layers',
            columns: [{ key: 'tensor', title: 'tensor', align: 'left' }],
            rows: [{ tensor: 'dense_1/kernel' }],
          },
        ],
      },
    ],
  });
  const svg = svgOf(html, 'search-0')!;

  it('draws each candidate once, infeasible ones as rings, the chosen one ringed, the bound as a line', () => {
    expect(html).toContain('<h2>Search &#39;s&lt;1&gt;&#39;</h2>');
    expect(count(svg, /<circle class="mark"/g)).toBe(1);
    // Two infeasible rings and the chosen model's ring, each in its series' colour.
    expect(count(svg, /<circle class="mark ring"[^>]*style="stroke:#[0-9a-f]{6}"/g)).toBe(3);
    expect(svg).toContain('&lt;x&gt;');
    expect(count(svg, /class="ref"/g)).toBe(1);
    expect(html).toContain('<h3>chosen layers</h3>');
    expect(html).toContain('dense_1/kernel');
  });
});
