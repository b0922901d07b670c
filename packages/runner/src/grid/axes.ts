import type { ParamValue } from '@squash/core';
import type { ParamSpec } from '@squash/compressors';
import type { ModelSpec } from '@squash/trainer/specs';
import type { PathSegment } from '../spec/locate.js';
import { modelParamOf, stageRegistry } from '../stages/registry.js';
import type { StageDefaults, WrittenSweep, WrittenValue } from '../spec/types.js';
import { modelLayerNames } from './layers.js';
import { expandValues } from './values.js';

/** A problem found while expanding a sweep, at a document path (`key`: at that map key). */
export interface GridProblem {
  path: PathSegment[];
  key?: string;
  message: string;
  hint?: string;
}

/** One dimension of a sweep's grid: a stage param (one value or many), or a stage's layer axis. */
export interface GridAxis {
  /** `${stageIndex}.${param}`: the key of this axis in a point. */
  key: string;
  /** How files and messages name it: `prune-weights.retention`, or `2.epochs` when the stage name repeats. */
  ref: string;
  stage: number;
  /** The param; `layer` for the layer axis of `layers: each`. */
  param: string;
  values: ParamValue[];
  /** Where the values are written (the stage param, the `defaults:` entry, or `layers`). */
  path: PathSegment[];
  /** Values came from range/linspace/logspace (no node of their own in the file). */
  generated: boolean;
  /** Written as a list: value k sits at `[...path, k]`. */
  listed: boolean;
  isLayer: boolean;
  /** Expanding the values failed (already reported): later checks skip this axis. */
  broken: boolean;
}

export interface SweepContext {
  defaults: StageDefaults;
  models: Record<string, ModelSpec>;
  /** Weight layers of the experiment's model; undefined when the model is unknown. */
  layers: string[] | undefined;
}

export interface SweepAxes {
  axes: GridAxis[];
  /** Every accepted reference (`name.param` when unique, `index.param` always) → axis index. */
  refs: Map<string, number>;
  /** Per stage: the weight layers its `layers:` refers to (a distilled student's, after the distillation). */
  stageLayers: Array<string[] | undefined>;
  problems: GridProblem[];
}

export const LAYER_AXIS = 'layer';

function paramSpec(stage: string, param: string): ParamSpec | undefined {
  return stageRegistry.has(stage) ? stageRegistry.get(stage).params[param] : undefined;
}

/** Layers after a stage that names a model (a distillation's student) are that model's; several must share one layout. */
function namedModelLayers(model: WrittenValue | undefined, ctx: SweepContext): string[] | undefined | 'ambiguous' {
  const names = expandValues(model ?? []).values.filter((s): s is string => typeof s === 'string');
  const layouts = names.map((n) => modelLayerNames(n, ctx.models));
  if (!layouts.length || layouts.some((l) => !l)) return undefined;
  return layouts.every((l) => l!.join() === layouts[0]!.join()) ? layouts[0] : 'ambiguous';
}

/**
 * The axes of one sweep, stage by stage: its stage's params merged over `defaults:` (the sweep
 * wins), each expanded to its values, plus a layer axis for `layers: each` placed first within its
 * stage (so a per-layer sweep reads "for each layer, every value").
 */
export function sweepAxes(sweep: WrittenSweep, sweepIndex: number, ctx: SweepContext): SweepAxes {
  const names = sweep.stages.map((s) => Object.keys(s)[0]!);
  const out: SweepAxes = { axes: [], refs: new Map(), stageLayers: [], problems: [] };
  let layers: string[] | undefined | 'ambiguous' = ctx.layers;
  sweep.stages.forEach((stage, j) => {
    const name = names[j]!;
    const own = Object.values(stage)[0] ?? {};
    const stagePath: PathSegment[] = ['sweeps', sweepIndex, 'stages', j, name];
    const unique = names.filter((n) => n === name).length === 1;
    const add = (axis: Omit<GridAxis, 'key' | 'ref' | 'stage'>) => {
      const index = out.axes.length;
      out.axes.push({
        ...axis,
        key: `${j}.${axis.param}`,
        ref: unique ? `${name}.${axis.param}` : `${j}.${axis.param}`,
        stage: j,
      });
      out.refs.set(`${j}.${axis.param}`, index);
      if (unique) out.refs.set(`${name}.${axis.param}`, index);
    };
    const modelParam = modelParamOf(name);
    if (modelParam)
      layers = namedModelLayers((own[modelParam] ?? ctx.defaults[name]?.[modelParam]) as WrittenValue | undefined, ctx);
    out.stageLayers.push(layers === 'ambiguous' ? undefined : layers);
    if (own.layers === 'each') {
      const path = [...stagePath, 'layers'];
      if (layers === 'ambiguous') {
        out.problems.push({
          path,
          message: "'layers: each' after a distill stage whose students differ in layers",
          hint: 'sweep the students in separate sweeps',
        });
      } else if (layers && !layers.length) {
        out.problems.push({ path, message: "'layers: each' but the model has no weight layers" });
      }
      const values = layers === 'ambiguous' ? [] : (layers ?? []);
      add({ param: LAYER_AXIS, values, path, generated: false, listed: false, isLayer: true, broken: !values.length });
    }
    // The stage's own params in written order, then the defaults it does not override.
    const merged: Record<string, { value: WrittenValue; path: PathSegment[] }> = {};
    for (const [k, v] of Object.entries(own))
      if (k !== 'layers') merged[k] = { value: v as WrittenValue, path: [...stagePath, k] };
    for (const [k, v] of Object.entries(ctx.defaults[name] ?? {}))
      merged[k] ??= { value: v, path: ['defaults', name, k] };
    for (const [param, { value, path }] of Object.entries(merged)) {
      const e = expandValues(value, paramSpec(name, param), param);
      if (e.problem)
        out.problems.push({ path: [...path, ...e.problem.sub], message: e.problem.message, hint: e.problem.hint });
      add({
        param,
        values: e.values,
        path,
        generated: e.generated,
        listed: Array.isArray(value),
        isLayer: false,
        broken: !!e.problem,
      });
    }
  });
  return out;
}
