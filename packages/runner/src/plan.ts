import { ConfigError, SpecError, SQUASH_VERSION, stableHash, type ParamValue } from '@squash/core';
import type { SweepContext } from './grid/axes.js';
import { expandSweep, type Point } from './grid/expand.js';
import { modelLayerNames } from './grid/layers.js';
import { formatPath } from './spec/locate.js';
import type { BaselineConfig, Experiment, LayerOverride, Stage, Trial, WrittenSweep } from './spec/types.js';
import type { GridAxis } from './grid/axes.js';

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

/** The baseline id: hash of everything that determines the trained model, plus the Squash version. */
export function baselineId(b: BaselineConfig): string {
  return stableHash({ kind: 'baseline', squash: SQUASH_VERSION, ...b });
}

/**
 * The trial id: hash of everything that determines its numbers (baseline + resolved stages + the
 * student models they name) plus the Squash version, so another version never reuses a result.
 * A stage's `layer` is a label (its `layers` already say it), so it is left out.
 */
export function trialId(baseline: BaselineConfig, stages: Stage[], models: Record<string, unknown> = {}): string {
  const resolved = stages.map(({ layer: _label, ...s }) => s);
  return stableHash({
    kind: 'trial',
    squash: SQUASH_VERSION,
    baseline,
    stages: resolved,
    ...(Object.keys(models).length ? { models } : {}),
  });
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

/** What the grid module needs of an experiment. */
export function sweepContext(exp: Pick<Experiment, 'model' | 'models' | 'defaults'>): SweepContext {
  return { defaults: exp.defaults ?? {}, models: exp.models, layers: modelLayerNames(exp.model, exp.models) };
}

/** One point → the resolved stages of a trial (a layer axis becomes `layers` overrides). */
function pointStages(sweep: WrittenSweep, axes: GridAxis[], point: Point): Stage[] {
  return sweep.stages.map((s, j) => {
    const compressor = Object.keys(s)[0]!;
    const stage: Stage = { compressor, params: {} };
    for (const axis of axes) {
      if (axis.stage !== j) continue;
      const v = point[axis.key]!;
      if (!axis.isLayer) stage.params[axis.param] = v;
      else {
        stage.layer = String(v);
        stage.layers = [{ match: String(v) }, { match: '*', skip: true }];
      }
    }
    const written = Object.values(s)[0]?.layers;
    if (Array.isArray(written)) stage.layers = written as LayerOverride[];
    return stage;
  });
}

/**
 * Every trial of an experiment, pure and deterministic: seeds × sweeps × grid points (see
 * SWEEPS.md for zip, exclude, ranges, defaults and layer axes). A point that two sweeps share
 * (same stages, same values) is one trial, listed under the first sweep. An experiment that did
 * not come through `parseSpec` may still be malformed: then every problem is thrown at once.
 */
export function planTrials(exp: Experiment): Trial[] {
  const ctx = sweepContext(exp);
  const expanded = exp.sweeps.map((s, i) => expandSweep(s, i, ctx));
  const problems = expanded.flatMap((e) => e.problems);
  if (problems.length) {
    throw new SpecError(
      problems.map(
        (p) =>
          new ConfigError(p.message, {
            location: { file: exp.file, path: formatPath(p.key ? [...p.path, p.key] : p.path) },
            hint: p.hint,
          }),
      ),
    );
  }
  const trials: Trial[] = [];
  const seen = new Set<string>();
  for (const seed of exp.seeds) {
    const baseline: BaselineConfig = { model: exp.model, dataset: exp.dataset, train: exp.train, seed };
    const bId = baselineId(baseline);
    exp.sweeps.forEach((sweep, i) => {
      const { axes, points } = expanded[i]!;
      for (const point of points) {
        const stages = pointStages(sweep, axes, point);
        const id = trialId(baseline, stages, referencedModels(exp, stages));
        if (seen.has(id)) continue;
        seen.add(id);
        trials.push({ id, sweep: sweep.name, baseline, baselineId: bId, stages });
      }
    });
  }
  return trials;
}

/** `prune-weights(retention=0.5,layer=dense_1) → quantize-weights(bits=4)` — a compact label for tables. */
export function trialLabel(stages: Stage[]): string {
  return stages
    .map((s) => {
      const extra = s.layer !== undefined ? [`layer=${s.layer}`] : s.layers ? [`layers=${s.layers.length}`] : [];
      const ps = [...Object.entries(s.params).map(([k, v]) => `${k}=${v}`), ...extra].join(',');
      return ps ? `${s.compressor}(${ps})` : s.compressor;
    })
    .join(' → ');
}
