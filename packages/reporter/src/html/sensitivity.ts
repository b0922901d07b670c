import { formatStat, sortKeys } from '../pivot.js';
import { ACCURACY, Aggregate, keyKind, shortKey, type Plot, type PlotInput, type TrialGroup } from './plots.js';
import { formatTick } from './scale.js';
import { xyChart } from './svg.js';

/**
 * Per-layer sensitivity: for each stage with a `stage.layer` param, accuracy against the stage's
 * level param (the numeric one with the most distinct values), one line per layer.
 */
export function sensitivityPlots(input: PlotInput): Plot[] {
  const byStage = new Map<string, TrialGroup[]>();
  for (const t of input.trials) {
    if (!t.layered) continue;
    for (const k in t.rep.params) {
      if (keyKind(k) !== 2) continue;
      const stage = k.slice(0, -'.layer'.length);
      byStage.set(stage, [...(byStage.get(stage) ?? []), t]);
    }
  }
  const plots: Plot[] = [];
  for (const stage of sortKeys(byStage.keys())) {
    const trials = byStage.get(stage)!;
    const id = `sensitivity-${stage.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const title = `Per-layer sensitivity: ${stage}`;
    const [prefix, layerKey] = [`${stage}.`, `${stage}.layer`];
    const distinct = new Map<string, Set<number>>();
    for (const t of trials) {
      const params = t.rep.params;
      for (const k in params) {
        const v = params[k];
        if (typeof v === 'number' && keyKind(k) === 1 && k.startsWith(prefix))
          distinct.set(k, (distinct.get(k) ?? new Set()).add(v));
      }
    }
    const level = [...distinct.entries()].sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1))[0]?.[0];
    if (!level) {
      plots.push({ id, title, note: `Runs with ${stage}.layer have no numeric ${stage} level: plot omitted.` });
      continue;
    }
    const agg = new Aggregate();
    for (const t of trials) {
      const x = t.rep.params[level];
      if (typeof x === 'number') for (const j of t.idx) agg.add(String(t.rep.params[layerKey]), x, input.acc[j]!);
    }
    const { series, dropped } = agg.series((s, x) => `${s}, ${shortKey(level)} ${formatStat(x)}`);
    const subtitle = dropped ? `${dropped} more layers not shown` : 'one line per layer';
    plots.push({
      id,
      title,
      svg: xyChart({
        id,
        title,
        subtitle,
        x: { label: level, format: formatTick },
        y: ACCURACY,
        series,
        ref: input.ref,
      }),
    });
  }
  return plots;
}
