import { stableHash, type ParamValue } from '@squash/core';
import type { BaselineConfig, Experiment, LayerOverride, Stage, Trial, WrittenStage } from './spec/types.js';

export interface Axis {
  /** `stageIndex.param`, unique within a sweep. */
  key: string;
  values: ParamValue[];
}

/** Cartesian product of the axes, first axis varying slowest (reads like nested loops). */
export function expandGrid(axes: Axis[]): Array<Record<string, ParamValue>> {
  let points: Array<Record<string, ParamValue>> = [{}];
  for (const axis of axes) {
    points = points.flatMap((p) => axis.values.map((v) => ({ ...p, [axis.key]: v })));
  }
  return points;
}

function sweepAxes(stages: WrittenStage[]): Axis[] {
  return stages.flatMap((stage, i) => {
    const params = Object.values(stage)[0]!;
    return Object.entries(params)
      .filter(([k]) => k !== 'layers')
      .map(([k, v]) => ({ key: `${i}.${k}`, values: (Array.isArray(v) ? v : [v]) as ParamValue[] }));
  });
}

export function baselineId(b: BaselineConfig): string {
  return stableHash({ kind: 'baseline', ...b });
}

/** The trial id: hash of everything that determines its numbers (baseline + stages). */
export function trialId(baseline: BaselineConfig, stages: Stage[], models: Record<string, unknown> = {}): string {
  return stableHash({ kind: 'trial', baseline, stages, ...(Object.keys(models).length ? { models } : {}) });
}

/** The experiment-scoped models a trial's stages name (students): part of what it computes. */
function referencedModels(exp: Experiment, stages: Stage[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of stages) {
    const name = s.params.student;
    if (typeof name === 'string' && exp.models[name]) out[name] = exp.models[name];
  }
  return out;
}

/**
 * Every trial of an experiment, pure and deterministic: seeds × sweeps × grid points. A point
 * that two sweeps share (same stages, same values) is one trial, listed under the first sweep.
 */
export function planTrials(exp: Experiment): Trial[] {
  const trials: Trial[] = [];
  const seen = new Set<string>();
  for (const seed of exp.seeds) {
    const baseline: BaselineConfig = { model: exp.model, dataset: exp.dataset, train: exp.train, seed };
    const bId = baselineId(baseline);
    for (const sweep of exp.sweeps) {
      const names = sweep.stages.map((s) => Object.keys(s)[0]!);
      for (const point of expandGrid(sweepAxes(sweep.stages))) {
        const stages: Stage[] = sweep.stages.map((s, i) => {
          const layers = Object.values(s)[0]!.layers as LayerOverride[] | undefined;
          return layers ? { compressor: names[i]!, params: {}, layers } : { compressor: names[i]!, params: {} };
        });
        for (const [key, v] of Object.entries(point)) {
          const dot = key.indexOf('.');
          stages[Number(key.slice(0, dot))]!.params[key.slice(dot + 1)] = v;
        }
        const id = trialId(baseline, stages, referencedModels(exp, stages));
        if (seen.has(id)) continue;
        seen.add(id);
        trials.push({ id, sweep: sweep.name, baseline, baselineId: bId, stages });
      }
    }
  }
  return trials;
}

/** `prune-weights.retention=0.5 quantize-weights.bits=4` — a compact label for tables. */
export function trialLabel(stages: Stage[]): string {
  return stages
    .map((s) => {
      const ps = [...Object.entries(s.params).map(([k, v]) => `${k}=${v}`), ...(s.layers ? [`layers=${s.layers.length}`] : [])].join(',');
      return ps ? `${s.compressor}(${ps})` : s.compressor;
    })
    .join(' → ');
}
