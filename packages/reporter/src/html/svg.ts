import { clip, escapeHtml as esc } from './escape.js';
import { extent, linearTicks, logTicks, padLinear, padLog, scale, type Domain } from './scale.js';

/** Tableau 10: distinct, and readable on white. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

export interface Axis {
  label: string;
  log?: boolean;
  /** Tick text; `step` is the linear tick step (0 on a log axis). */
  format: (v: number, step: number) => string;
}
export interface Point {
  x: number;
  y: number;
  /** Half-height of an error bar (a standard deviation), drawn when > 0. */
  err?: number;
  /** Hover text. */
  tip?: string;
}
export interface Series {
  name: string;
  color: string;
  points: Point[];
  line?: 'straight' | 'step' | 'none';
  mark?: 'dot' | 'ring' | 'none';
}
export interface Chart {
  id: string;
  title: string;
  subtitle?: string;
  x: Axis;
  y: Axis;
  series: Series[];
  /** Horizontal reference lines, e.g. the baseline's accuracy. */
  ref?: Array<{ y: number; label: string }>;
}

export const WIDTH = 600;
const PLOT_H = 270;
const M = { l: 66, r: 22, t: 48, b: 46 };
const CHAR_W = 6.4;
const n1 = (v: number) => String(Math.round(v * 10) / 10);

export interface Frame {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Title, subtitle and the `<svg>` wrapper; `body` gets the plot frame and the legend's y. */
export function svgShell(
  c: { id: string; title: string; subtitle?: string },
  legend: LegendItem[],
  body: (f: Frame, legendY: number) => string,
): string {
  const f: Frame = { x0: M.l, x1: WIDTH - M.r, y0: M.t, y1: M.t + PLOT_H };
  const rows = legendRows(legend);
  const h = f.y1 + M.b + rows.length * 18 + 6;
  return [
    `<svg class="plot" id="${esc(c.id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${h}" width="${WIDTH}" height="${h}" role="img" aria-label="${esc(c.title)}">`,
    `<title>${esc(c.title)}</title>`,
    `<text class="title" x="${WIDTH / 2}" y="20" text-anchor="middle">${esc(clip(c.title, 80))}</text>`,
    c.subtitle
      ? `<text class="subtitle" x="${WIDTH / 2}" y="36" text-anchor="middle">${esc(clip(c.subtitle, 88))}<title>${esc(c.subtitle)}</title></text>`
      : '',
    body(f, f.y1 + M.b),
    drawLegend(rows, f.y1 + M.b),
    '</svg>',
  ].join('');
}

export interface LegendItem {
  name: string;
  color: string;
  kind: 'line' | 'dot' | 'dash' | 'box';
}

function legendRows(items: LegendItem[]): LegendItem[][] {
  const rows: LegendItem[][] = [];
  let used = Infinity;
  for (const it of items) {
    const w = 26 + clip(it.name, 48).length * CHAR_W + 14;
    if (used + w > WIDTH - 2 * 12) rows.push([]), (used = 0);
    rows[rows.length - 1]!.push(it);
    used += w;
  }
  return rows;
}

function drawLegend(rows: LegendItem[][], top: number): string {
  const out: string[] = ['<g class="legend">'];
  rows.forEach((row, i) => {
    let x = 12;
    const y = top + i * 18 + 4;
    for (const it of row) {
      const sw =
        it.kind === 'box'
          ? `<rect x="${x}" y="${y - 5}" width="14" height="10" fill="${it.color}"/>`
          : it.kind === 'dot'
            ? `<circle cx="${x + 8}" cy="${y}" r="3.5" fill="${it.color}"/>`
            : `<line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" stroke="${it.color}" stroke-width="2"${it.kind === 'dash' ? ' stroke-dasharray="5 3"' : ''}/>`;
      const name = clip(it.name, 48);
      out.push(
        `${sw}<text x="${x + 24}" y="${y + 4}">${esc(name)}${name !== it.name ? `<title>${esc(it.name)}</title>` : ''}</text>`,
      );
      x += 26 + name.length * CHAR_W + 14;
    }
  });
  out.push('</g>');
  return out.join('');
}

export interface AxisDraw {
  domain: Domain;
  log: boolean;
  ticks: number[];
  step: number;
}

/** Domain and ticks of one axis from the values it must show. */
export function axisFor(values: number[], log: boolean): AxisDraw {
  if (log) {
    const domain = padLog(extent(values.filter((v) => v > 0)) ?? [1, 10]);
    return { domain, log, ticks: logTicks(domain), step: 0 };
  }
  const domain = padLinear(extent(values) ?? [0, 1]);
  const { ticks, step } = linearTicks(domain, 5);
  return { domain, log, ticks, step };
}

/** Grid lines, tick labels, axis lines and axis titles; returns the markup and both scales. */
export function drawAxes(
  f: Frame,
  xa: AxisDraw,
  ya: AxisDraw,
  x: Axis,
  y: Axis,
  xTicks?: Array<{ at: number; text: string }>,
) {
  const sx = scale(xa.domain, [f.x0, f.x1], xa.log);
  const sy = scale(ya.domain, [f.y1, f.y0], ya.log);
  const out: string[] = ['<g class="axes">'];
  for (const t of ya.ticks) {
    const py = n1(sy(t));
    out.push(
      `<line class="grid" x1="${f.x0}" x2="${f.x1}" y1="${py}" y2="${py}"/><text class="tick" x="${f.x0 - 6}" y="${py}" dy="0.32em" text-anchor="end">${esc(y.format(t, ya.step))}</text>`,
    );
  }
  const xt = xTicks ?? xa.ticks.map((t) => ({ at: sx(t), text: x.format(t, xa.step) }));
  for (const t of xt) {
    const px = n1(t.at);
    out.push(
      `<line class="tickmark" x1="${px}" x2="${px}" y1="${f.y1}" y2="${f.y1 + 5}"/><text class="tick" x="${px}" y="${f.y1 + 18}" text-anchor="middle">${esc(t.text)}</text>`,
    );
  }
  out.push(
    `<line class="axis" x1="${f.x0}" x2="${f.x1}" y1="${f.y1}" y2="${f.y1}"/><line class="axis" x1="${f.x0}" x2="${f.x0}" y1="${f.y0}" y2="${f.y1}"/>`,
  );
  out.push(`<text class="label" x="${(f.x0 + f.x1) / 2}" y="${f.y1 + 36}" text-anchor="middle">${esc(x.label)}</text>`);
  out.push(
    `<text class="label" transform="translate(16 ${(f.y0 + f.y1) / 2}) rotate(-90)" text-anchor="middle">${esc(y.label)}</text></g>`,
  );
  return { markup: out.join(''), sx, sy };
}

/** A line / scatter chart: series as paths and marks, error bars, dashed reference lines, legend. */
export function xyChart(c: Chart): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = [
    ...c.series.flatMap((s) => s.points.flatMap((p) => (p.err ? [p.y - p.err, p.y + p.err] : [p.y]))),
    ...(c.ref ?? []).map((r) => r.y),
  ];
  const xa = axisFor(xs, !!c.x.log);
  const ya = axisFor(ys, !!c.y.log);
  const legend: LegendItem[] = [
    ...c.series.map((s) => ({
      name: s.name,
      color: s.color,
      kind: s.line === 'none' ? ('dot' as const) : ('line' as const),
    })),
    ...(c.ref ?? []).map((r) => ({ name: r.label, color: '#555', kind: 'dash' as const })),
  ];
  return svgShell(c, legend, (f) => {
    const { markup, sx, sy } = drawAxes(f, xa, ya, c.x, c.y);
    const out = [markup];
    for (const r of c.ref ?? [])
      out.push(`<line class="ref" x1="${f.x0}" x2="${f.x1}" y1="${n1(sy(r.y))}" y2="${n1(sy(r.y))}"/>`);
    for (const s of c.series) {
      const pts = [...s.points].sort((a, b) => a.x - b.x);
      const line = s.line ?? 'straight';
      if (line !== 'none' && pts.length > 1) {
        const d = pts.map((p, i) =>
          i === 0
            ? `M${n1(sx(p.x))} ${n1(sy(p.y))}`
            : line === 'step'
              ? `H${n1(sx(p.x))}V${n1(sy(p.y))}`
              : `L${n1(sx(p.x))} ${n1(sy(p.y))}`,
        );
        if (line === 'step') d.push(`H${f.x1}`);
        out.push(`<path class="series" d="${d.join('')}" stroke="${s.color}"/>`);
      }
      for (const p of pts) {
        const cx = n1(sx(p.x));
        if (p.err)
          out.push(`<path class="err" d="M${cx} ${n1(sy(p.y - p.err))}V${n1(sy(p.y + p.err))}" stroke="${s.color}"/>`);
        const tip = p.tip ? `<title>${esc(p.tip)}</title>` : '';
        const mark = s.mark ?? 'dot';
        if (mark === 'dot')
          out.push(`<circle class="mark" cx="${cx}" cy="${n1(sy(p.y))}" r="3.2" fill="${s.color}">${tip}</circle>`);
        else if (mark === 'ring')
          out.push(
            // Inline: the stylesheet's white outline for dots would otherwise win over the attribute.
            `<circle class="mark ring" cx="${cx}" cy="${n1(sy(p.y))}" r="5.5" style="stroke:${s.color}">${tip}</circle>`,
          );
      }
    }
    return out.join('');
  });
}
