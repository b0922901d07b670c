import { LayerField, type LayerFieldKey, Metric, parseLayerMetricKey, type RunView } from '@squash/contract';
import { frontPoints } from '../pareto.js';
import { barChart } from './bars.js';
import type { Plot, PlotInput } from './plots.js';
import { formatBytes, formatPercent } from './scale.js';
import { PALETTE, xyChart, type Series } from './svg.js';

export const DEFAULT_MAX_POINTS = 2000;
const MAX_SWEEP_COLORS = 9;
const OTHER = '#9a9a9a';

/**
 * Accuracy against artifact bytes (log x), one colour per sweep, the Pareto front as a step line.
 * More than `maxPoints` runs are thinned: every front run is kept, the others are taken at an even
 * stride, and the subtitle says how many are shown.
 */
export function accuracyVsBytes(input: PlotInput, maxPoints = DEFAULT_MAX_POINTS): Plot {
  const id = 'acc-bytes';
  const title = 'Accuracy vs artifact size (Pareto front)';
  const { runs, front } = input;
  const eligible: number[] = [];
  for (let j = 0; j < runs.length; j++)
    if (input.ok[j] && input.bytes[j]! > 0 && Number.isFinite(input.bytes[j])) eligible.push(j);
  if (!eligible.length) return { id, title, note: 'No finished runs with an artifact size: plot omitted.' };
  const onFront = eligible.filter((j) => front.has(runs[j]!.id));
  let shown = eligible;
  if (eligible.length > maxPoints) {
    const stride = Math.ceil((eligible.length - onFront.length) / Math.max(1, maxPoints - onFront.length));
    let k = 0;
    shown = eligible.filter((j) => front.has(runs[j]!.id) || k++ % stride === 0);
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
  const steps = frontPoints(onFront.map((j) => ({ id: runs[j]!.id, accuracy: input.acc[j]!, bytes: input.bytes[j]! })));
  const frontSeries: Series = {
    name: `Pareto front (${steps.length} runs)`,
    color: '#222',
    line: 'step',
    mark: 'ring',
    points: steps.map((p) => ({ x: p.bytes, y: p.accuracy })),
  };
  const svg = xyChart({
    id,
    title,
    subtitle:
      shown.length < eligible.length
        ? `showing ${shown.length} of ${eligible.length} runs (all front runs kept, others thinned)`
        : `${eligible.length} finished runs; up and left is better`,
    x: { label: 'artifact bytes (log scale)', log: true, format: formatBytes },
    y: { label: Metric.accuracy, format: formatPercent },
    series: [...series.values(), frontSeries],
    ref: input.ref,
  });
  return { id, title, svg };
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

/** Dense / sparse / quantized / Huffman bytes per tensor of the best-compressed run (fewest artifact bytes, then higher accuracy). */
export function layerSizes(input: PlotInput): Plot {
  const id = 'layer-sizes';
  const title = 'Per-layer sizes of the best-compressed run';
  const { runs, acc, bytes } = input;
  const score = (j: number) => (Number.isFinite(acc[j]) ? acc[j]! : -1);
  const hasLayers = (r: RunView) =>
    Object.keys(r.metrics).some((k) => parseLayerMetricKey(k)?.field === LayerField.denseBytes);
  let best = -1;
  for (let j = 0; j < runs.length; j++) {
    if (runs[j]!.status !== 'FINISHED' || !Number.isFinite(bytes[j])) continue;
    const better = best < 0 || bytes[j]! < bytes[best]! || (bytes[j] === bytes[best] && score(j) > score(best));
    if (better && hasLayers(runs[j]!)) best = j; // the key scan runs only for a run that would win
  }
  if (best < 0) return { id, title, note: 'No finished run has per-layer size metrics: plot omitted.' };
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
  const accText = Number.isFinite(accuracy) ? `, ${(accuracy! * 100).toFixed(2)}%` : '';
  const svg = barChart({
    id,
    title,
    subtitle: `${run.isBaseline ? 'baseline' : run.label} (${formatBytes(run.metrics[Metric.artifactBytes]!)}${accText})`,
    categories: tensors,
    groups,
    x: { label: 'tensor' },
    y: { label: 'bytes (log scale)', log: true, format: (v) => formatBytes(v) },
  });
  return { id, title, svg };
}
