import { clip, escapeHtml as esc } from './escape.js';
import { axisFor, drawAxes, svgShell, type Axis, type LegendItem } from './svg.js';

export interface BarChart {
  id: string;
  title: string;
  subtitle?: string;
  /** One group of bars per category (a tensor). */
  categories: string[];
  /** One bar per group in every category; undefined or ≤ 0 (on a log axis) draws nothing. */
  groups: Array<{ name: string; color: string; values: Array<number | undefined> }>;
  x: { label: string };
  y: Axis;
}

/** Grouped bars on a (usually log) value axis, category names under each group. */
export function barChart(c: BarChart): string {
  const values = c.groups.flatMap((g) =>
    g.values.filter((v): v is number => v !== undefined && Number.isFinite(v) && (!c.y.log || v > 0)),
  );
  const ya = axisFor(c.y.log ? values : [0, ...values], !!c.y.log);
  if (!c.y.log) ya.domain[0] = Math.max(ya.domain[0], 0);
  const legend: LegendItem[] = c.groups.map((g) => ({ name: g.name, color: g.color, kind: 'box' }));
  return svgShell(c, legend, (f) => {
    const band = (f.x1 - f.x0) / Math.max(1, c.categories.length);
    const inner = (band * 0.8) / Math.max(1, c.groups.length);
    const maxChars = Math.max(4, Math.floor(band / 6.4));
    const xTicks = c.categories.map((name, i) => ({ at: f.x0 + band * (i + 0.5), text: clip(name, maxChars) }));
    const xa = { domain: [0, 1] as [number, number], log: false, ticks: [], step: 0 };
    const { markup, sy } = drawAxes(f, xa, ya, { label: c.x.label, format: String }, c.y, xTicks);
    const out = [markup];
    const base = f.y1;
    c.categories.forEach((cat, i) => {
      c.groups.forEach((g, j) => {
        const v = g.values[i];
        if (v === undefined || !Number.isFinite(v) || (c.y.log && v <= 0)) return;
        const top = Math.min(base, sy(v));
        const x = f.x0 + band * i + band * 0.1 + inner * j;
        const tip = `${cat} · ${g.name}: ${c.y.format(v, 0)}`;
        out.push(
          `<rect class="bar" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, inner - 1).toFixed(1)}" height="${Math.max(0.5, base - top).toFixed(1)}" fill="${g.color}"><title>${esc(tip)}</title></rect>`,
        );
      });
    });
    return out.join('');
  });
}
