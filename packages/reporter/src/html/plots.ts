import { Metric, type MetricKey, type RunView } from '@squash/contract';
import type { FrontConfig } from '../pareto.js';
import { formatStat, meanStd, sortKeys } from '../pivot.js';
import { formatPercent, formatTick } from './scale.js';
import { PALETTE, xyChart, type Point, type Series } from './svg.js';

/** One figure of the page: its SVG, or a note saying why it is left out. */
export interface Plot {
  id: string;
  title: string;
  svg?: string;
  note?: string;
  /**
   * The plot of an axis the experiment does not sweep (no data, or a single x value): the page
   * leaves it out entirely instead of drawing an empty card, and lists it in one line.
   */
  unswept?: boolean;
}

export const MAX_SERIES = 10;
export const ACCURACY = { label: Metric.accuracy, format: formatPercent };
export const fmtAcc = (v: number) => `${(v * 100).toFixed(2)}%`;
export const shortKey = (k: string) => k.slice(k.lastIndexOf('.') + 1);

const KIND = new Map<string, 0 | 1 | 2>();
/** 1: a stage's param (`stage.name`), 2: a per-layer sweep's `stage.layer`, 0: run-level (`seed`, `model`, …). Cached per key. */
export function keyKind(k: string): 0 | 1 | 2 {
  let kind = KIND.get(k);
  if (kind === undefined) KIND.set(k, (kind = k.endsWith('.layer') ? 2 : k.includes('.') ? 1 : 0));
  return kind;
}

/**
 * FINISHED runs of one trial (same sweep and label, so the same stage params: the runner's label
 * spells them all), e.g. its seeds. Plots read a trial's params once, not once per run.
 */
export interface TrialGroup {
  rep: RunView;
  /** Indices into `runs`. */
  idx: number[];
  /** Part of a per-layer sweep (has a `stage.layer` param). */
  layered: boolean;
}

/**
 * What every plot reads, looked up once into flat arrays and trial groups: with 100,000 runs,
 * per-run objects and repeated lookups in large param and metric records cost more than drawing.
 */
export interface PlotInput {
  runs: readonly RunView[];
  /** 1 when FINISHED with a finite accuracy. */
  ok: Uint8Array;
  acc: Float64Array;
  /** artifact_bytes, NaN when absent. */
  bytes: Float64Array;
  /** The non-baseline runs with `ok`, by trial. */
  trials: TrialGroup[];
  /** Ids of the runs whose configuration (seeds averaged) is on the accuracy / artifact-bytes Pareto front. */
  front: ReadonlySet<string>;
  /** The front's configurations (mean accuracy and bytes over their seeds, their run indices), by bytes. */
  frontConfigs: readonly FrontConfig[];
  /** The baselines' mean accuracy as a reference line (none without a finished baseline). */
  ref: Array<{ y: number; label: string }>;
}

export function plotArrays(runs: readonly RunView[]): Omit<PlotInput, 'front' | 'frontConfigs' | 'ref'> {
  const n = runs.length;
  const ok = new Uint8Array(n);
  const acc = new Float64Array(n);
  const bytes = new Float64Array(n);
  const bySweep = new Map<string, Map<string, TrialGroup>>();
  const trials: TrialGroup[] = [];
  for (let j = 0; j < n; j++) {
    const r = runs[j]!;
    acc[j] = r.metrics[Metric.accuracy] ?? NaN;
    bytes[j] = r.metrics[Metric.artifactBytes] ?? NaN;
    ok[j] = r.status === 'FINISHED' && Number.isFinite(acc[j]) ? 1 : 0;
    if (!ok[j] || r.isBaseline) continue;
    let byLabel = bySweep.get(r.sweep);
    if (!byLabel) bySweep.set(r.sweep, (byLabel = new Map()));
    const g = byLabel.get(r.label);
    if (g) g.idx.push(j);
    else {
      let layered = false;
      for (const k in r.params) if (keyKind(k) === 2) layered = true;
      const t = { rep: r, idx: [j], layered };
      byLabel.set(r.label, t);
      trials.push(t);
    }
  }
  return { runs, ok, acc, bytes, trials };
}

/** The mean accuracy of the FINISHED baselines, as a dashed reference line. */
export function baselineRef(p: Omit<PlotInput, 'front' | 'frontConfigs' | 'ref'>): Array<{ y: number; label: string }> {
  const acc: number[] = [];
  p.runs.forEach((r, j) => r.isBaseline && p.ok[j] && acc.push(p.acc[j]!));
  return acc.length ? [{ y: meanStd(acc).mean, label: `baseline ${fmtAcc(meanStd(acc).mean)}` }] : [];
}

/** Accuracy samples by series and x, then means (± std when several runs, e.g. seeds); at most MAX_SERIES series, the rest counted. */
export class Aggregate {
  private readonly bySeries = new Map<string, Map<number, number[]>>();
  add(series: string, x: number, y: number): void {
    let xs = this.bySeries.get(series);
    if (!xs) this.bySeries.set(series, (xs = new Map()));
    const ys = xs.get(x);
    if (ys) ys.push(y);
    else xs.set(x, [y]);
  }
  series(tip: (series: string, x: number) => string): { series: Series[]; dropped: number } {
    const names = [...this.bySeries.keys()];
    const series = names.slice(0, MAX_SERIES).map((name, i) => {
      const xs = this.bySeries.get(name)!;
      const points: Point[] = sortKeys(xs.keys()).map((x) => {
        const { mean, std, n } = meanStd(xs.get(x)!);
        return {
          x,
          y: mean,
          err: n > 1 ? std : undefined,
          tip: `${tip(name, x)}: ${fmtAcc(mean)}${n > 1 ? ` ± ${(std * 100).toFixed(2)} (n=${n})` : ''}`,
        };
      });
      return { name, color: PALETTE[i % PALETTE.length]!, points };
    });
    return { series, dropped: Math.max(0, names.length - MAX_SERIES) };
  }
}

const ABSENT = Symbol('absent');

export interface ParamPlotSpec {
  id: string;
  title: string;
  xLabel: string;
  /**
   * The x axis: a recorded metric (e.g. `weight_bits`, whatever stage set it), or the first
   * stage param whose key `param` accepts.
   */
  x: { metric: MetricKey } | { param: (key: string) => boolean };
}

/** A trial on one plot: its runs' x values (NaN: the run has none), and the param they come from, if any. */
interface Picked {
  t: TrialGroup;
  xs: number[];
  key?: string;
}

function pick(input: PlotInput, t: TrialGroup, spec: ParamPlotSpec): Picked | undefined {
  if ('metric' in spec.x) {
    const m = spec.x.metric;
    const xs = t.idx.map((j) => input.runs[j]!.metrics[m] ?? NaN);
    return xs.some(Number.isFinite) ? { t, xs } : undefined;
  }
  for (const k in t.rep.params) {
    if (keyKind(k) !== 1 || !spec.x.param(k)) continue;
    const v = t.rep.params[k];
    return typeof v === 'number' ? { t, xs: t.idx.map(() => v), key: k } : undefined;
  }
  return undefined;
}

/**
 * Accuracy against one numeric quantity, one figure per spec (all specs in one pass over the runs).
 * Runs that differ in any other stage param land on different lines, so each line varies one
 * thing; a line is named by its sweep and the params that vary within that sweep (e.g. the
 * quantization scheme). Per-layer runs (a `*.layer` param) are left to the sensitivity plots.
 */
export function accuracyVsParams(input: PlotInput, specs: readonly ParamPlotSpec[]): Plot[] {
  const picked = specs.map(() => [] as Picked[]);
  for (const t of input.trials) {
    if (t.layered) continue;
    specs.forEach((spec, s) => {
      const p = pick(input, t, spec);
      if (p) picked[s]!.push(p);
    });
  }
  return specs.map((p, s) => paramPlot(input, p, picked[s]!));
}

/**
 * The stage params that only restate x within a sweep (one value per x and one x per value, such
 * as the bits param behind `weight_bits`): they do not name lines.
 */
function restatesX(picked: readonly Picked[], k: string): boolean {
  const byX = new Map<number, Set<unknown>>();
  const byValue = new Map<unknown, Set<number>>();
  for (const { t, xs } of picked) {
    const v = t.rep.params[k] ?? ABSENT;
    for (const x of xs) {
      if (!Number.isFinite(x)) continue;
      byX.set(x, (byX.get(x) ?? new Set()).add(v));
      byValue.set(v, (byValue.get(v) ?? new Set()).add(x));
    }
  }
  return [...byX.values(), ...byValue.values()].every((vs) => vs.size === 1);
}

function paramPlot(input: PlotInput, p: ParamPlotSpec, picked: Picked[]): Plot {
  if (!picked.length)
    return { id: p.id, title: p.title, note: `No finished runs with ${p.xLabel}: plot omitted.`, unswept: true };
  const xs = new Set<number>();
  for (const c of picked) for (const x of c.xs) if (Number.isFinite(x)) xs.add(x);
  if (xs.size < 2)
    return {
      id: p.id,
      title: p.title,
      note: `Every finished run has the same ${p.xLabel}: plot omitted.`,
      unswept: true,
    };
  // Per sweep: the other stage params its trials have, and which of them take more than one value.
  const bySweep = new Map<string, Picked[]>();
  for (const c of picked) bySweep.set(c.t.rep.sweep, [...(bySweep.get(c.t.rep.sweep) ?? []), c]);
  const varying = new Map<string, string[]>();
  for (const [sweep, cs] of bySweep) {
    const values = new Map<string, Set<unknown>>();
    for (const { t, key } of cs)
      for (const k in t.rep.params) if (k !== key && keyKind(k) === 1 && !values.has(k)) values.set(k, new Set());
    for (const { t } of cs) for (const [k, vals] of values) vals.add(t.rep.params[k] ?? ABSENT);
    const keys = [...values].filter(([k, v]) => v.size > 1 && !('metric' in p.x && restatesX(cs, k))).map(([k]) => k);
    varying.set(sweep, sortKeys(keys));
  }
  const manyKeys = new Set(picked.map((c) => c.key)).size > 1;
  const agg = new Aggregate();
  for (const { t, xs, key } of picked) {
    const r = t.rep;
    const parts = varying.get(r.sweep)!.map((k) => `${shortKey(k)}=${String(r.params[k] ?? '–')}`);
    const name = [r.sweep, ...(manyKeys && key ? [key.slice(0, key.lastIndexOf('.'))] : []), parts.join(', ')]
      .filter(Boolean)
      .join(' · ');
    t.idx.forEach((j, i) => Number.isFinite(xs[i]) && agg.add(name, xs[i]!, input.acc[j]!));
  }
  const { series, dropped } = agg.series((s, x) => `${s}, ${p.xLabel} ${formatStat(x)}`);
  const svg = xyChart({
    id: p.id,
    title: p.title,
    subtitle: dropped ? `${dropped} more series not shown` : undefined,
    x: { label: p.xLabel, format: formatTick },
    y: ACCURACY,
    series,
    ref: input.ref,
  });
  return { id: p.id, title: p.title, svg };
}
