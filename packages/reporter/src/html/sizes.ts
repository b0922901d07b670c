import {
  LayerField,
  type LayerFieldKey,
  Metric,
  parseLayerMetricKey,
  type Reference,
  type RunView,
} from '@squash/contract';
import { barChart } from './bars.js';
import type { Plot, PlotInput } from './plots.js';
import { formatBytes, formatPercent } from './scale.js';
import { PALETTE, xyChart, type Series } from './svg.js';

export const DEFAULT_MAX_POINTS = 2000;
const MAX_SWEEP_COLORS = 9;
const OTHER = '#9a9a9a';

/**
 * Accuracy against artifact bytes (log x), one colour per sweep, the Pareto front as a step line
 * through its configurations (at their means over seeds), each ringed. More than `maxPoints` runs
 * are thinned to an even stride (the front is drawn in full regardless), and the subtitle says how
 * many are shown.
 */
export function accuracyVsBytes(
  input: PlotInput,
  maxPoints = DEFAULT_MAX_POINTS,
  published: readonly PublishedPoint[] = [],
): Plot {
  const id = 'acc-bytes';
  const title = 'Accuracy vs artifact size (Pareto front)';
  const { runs } = input;
  const eligible: number[] = [];
  for (let j = 0; j < runs.length; j++)
    if (input.ok[j] && input.bytes[j]! > 0 && Number.isFinite(input.bytes[j])) eligible.push(j);
  if (!eligible.length) return { id, title, note: 'No finished runs with an artifact size: plot omitted.' };
  // The front is drawn in full by its staircase and rings; the dots only need to show the cloud.
  let shown = eligible;
  if (eligible.length > maxPoints) {
    const stride = Math.ceil(eligible.length / maxPoints);
    shown = eligible.filter((_, k) => k % stride === 0);
  }
  const sweeps = new Map<string, number>(); // sweep → colour index, in order of appearance
  const series = new Map<string, Series>();
  for (const j of shown) {
    const r = runs[j]!;
    const [x, y] = [input.bytes[j]!, input.acc[j]!];
    if (!sweeps.has(r.sweep)) sweeps.set(r.sweep, sweeps.size);
    const named = sweeps.get(r.sweep)! < MAX_SWEEP_COLORS;
    const key = named ? r.sweep : 'other sweeps';
    const s = series.get(key) ?? {
      name: key,
      color: named ? PALETTE[sweeps.get(r.sweep)!]! : OTHER,
      points: [],
      line: 'none' as const,
    };
    series.set(key, s);
    s.points.push({
      x,
      y,
      tip: `${r.isBaseline ? 'baseline' : r.label} (${r.sweep}): ${(y * 100).toFixed(2)}%, ${formatBytes(x)}`,
    });
  }
  // The staircase joins the front's configurations at their means over seeds (the runs themselves
  // are the coloured dots): one point per configuration, ringed.
  const steps = input.frontConfigs;
  const seeded = steps.some((c) => c.runs.length > 1);
  const frontSeries: Series = {
    name: seeded
      ? `Pareto front (${steps.length} configurations, mean over seeds)`
      : `Pareto front (${steps.length} runs)`,
    color: '#222',
    line: 'step',
    mark: 'ring',
    points: steps.map((c) => {
      const r = runs[c.runs[0]!]!;
      const n = c.runs.length;
      return {
        x: c.bytes,
        y: c.accuracy,
        tip: `${r.isBaseline ? 'baseline' : r.label} (${r.sweep}): ${(c.accuracy * 100).toFixed(2)}%, ${formatBytes(c.bytes)}${n > 1 ? ` (mean of ${n} seeds)` : ''}`,
      };
    }),
  };
  const svg = xyChart({
    id,
    title,
    subtitle:
      shown.length < eligible.length
        ? `showing ${shown.length} of ${eligible.length} runs (thinned evenly; the front drawn in full)`
        : `${eligible.length} finished runs; up and left is better`,
    x: { label: 'artifact bytes (log scale)', log: true, format: formatBytes },
    y: { label: Metric.accuracy, format: formatPercent },
    series: [...series.values(), frontSeries, ...publishedSeries(published)],
    ref: input.ref,
  });
  return { id, title, svg };
}

/** A published result (an experiment's `reference:` row with accuracy and artifact bytes), drawn beside the runs. */
export interface PublishedPoint {
  name: string;
  accuracy: number;
  bytes: number;
}

/** The `reference:` rows that have both an accuracy and an artifact size: points for the size plot. */
export function publishedPoints(reference: Reference | undefined): PublishedPoint[] {
  return (reference?.rows ?? []).flatMap((row) => {
    const accuracy = row.metrics[Metric.accuracy];
    const bytes = row.metrics[Metric.artifactBytes];
    return typeof accuracy === 'number' && typeof bytes === 'number' && bytes > 0
      ? [{ name: row.name, accuracy, bytes }]
      : [];
  });
}

function publishedSeries(points: readonly PublishedPoint[]): Series[] {
  if (!points.length) return [];
  return [
    {
      name: `published (${points.map((p) => p.name).join('; ')})`,
      color: '#d62728',
      line: 'none',
      mark: 'ring',
      points: points.map((p) => ({
        x: p.bytes,
        y: p.accuracy,
        tip: `${p.name} (published): ${(p.accuracy * 100).toFixed(2)}%, ${formatBytes(p.bytes)}`,
      })),
    },
  ];
}

const SIZE_FIELDS = [
  [LayerField.denseBytes, 'dense float32'],
  [LayerField.sparseBytes, 'sparse'],
  [LayerField.quantizedBytes, 'quantized'],
  [LayerField.huffmanBytes, 'huffman-coded'],
] as const;

/** The per-tensor metrics of one run: tensor → field → value, in the order the run recorded them. */
export function layerMetrics(r: RunView): Map<string, Partial<Record<LayerFieldKey, number>>> {
  const out = new Map<string, Partial<Record<LayerFieldKey, number>>>();
  for (const [k, v] of Object.entries(r.metrics)) {
    const key = parseLayerMetricKey(k);
    if (!key) continue;
    const rec = out.get(key.tensor) ?? {};
    rec[key.field] = v;
    out.set(key.tensor, rec);
  }
  return out;
}

/** How far below the baseline's accuracy the run whose per-layer sizes are drawn may be. */
export const LAYER_SIZES_TOLERANCE = 0.01;

/**
 * Dense / sparse / quantized / Huffman bytes per tensor of the best-compressed useful run: the
 * smallest configuration on the Pareto front (seeds averaged) whose accuracy is within
 * LAYER_SIZES_TOLERANCE (1 point) of the baseline's, or of the best configuration's without a
 * baseline. Not the smallest run whatever its accuracy: a 10 % run compresses best and says
 * nothing. The title states the rule; the subtitle names the run.
 */
export function layerSizes(input: PlotInput): Plot {
  const id = 'layer-sizes';
  const pts = `${LAYER_SIZES_TOLERANCE * 100} pt`;
  const { runs } = input;
  const baseline = input.ref[0]?.y;
  const reference = baseline ?? input.frontConfigs.reduce((a, c) => Math.max(a, c.accuracy), -Infinity);
  const against = baseline === undefined ? 'the best run' : 'the baseline';
  const title = `Per-layer sizes: smallest Pareto-front run within ${pts} of ${against}`;
  const hasLayers = (j: number) =>
    Object.keys(runs[j]!.metrics).some((k) => parseLayerMetricKey(k)?.field === LayerField.denseBytes);
  let best = -1;
  for (const c of input.frontConfigs) {
    // Ordered by bytes: the first that qualifies is the smallest (1e-12: exactly 1 pt below counts).
    if (c.accuracy < reference - LAYER_SIZES_TOLERANCE - 1e-12) continue;
    const j = c.runs.find((k) => !runs[k]!.isBaseline && hasLayers(k));
    if (j !== undefined) {
      best = j;
      break;
    }
  }
  if (best < 0)
    return {
      id,
      title,
      note: `No compressed run on the Pareto front within ${pts} of ${against}${Number.isFinite(reference) ? ` (${(reference * 100).toFixed(2)}%)` : ''} has per-layer size metrics: plot omitted.`,
    };
  const run = runs[best]!;
  const layers = layerMetrics(run);
  const tensors = [...layers.keys()].filter((t) => SIZE_FIELDS.some(([f]) => Number.isFinite(layers.get(t)![f])));
  const groups = SIZE_FIELDS.filter(([f]) => tensors.some((t) => Number.isFinite(layers.get(t)![f]))).map(
    ([f, name], i) => ({
      name,
      color: PALETTE[i]!,
      values: tensors.map((t) => layers.get(t)![f]),
    }),
  );
  const accuracy = run.metrics[Metric.accuracy];
  const accText = Number.isFinite(accuracy) ? ` at ${(accuracy! * 100).toFixed(2)}%` : '';
  const svg = barChart({
    id,
    title,
    subtitle: `${formatBytes(run.metrics[Metric.artifactBytes]!)}${accText} (${against}: ${(reference * 100).toFixed(2)}%): ${run.label}`,
    categories: tensors,
    groups,
    x: { label: 'tensor' },
    y: { label: 'bytes (log scale)', log: true, format: (v) => formatBytes(v) },
  });
  return { id, title, svg };
}
