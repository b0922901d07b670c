import { canonicalJson, ConfigError, didYouMean, type ParamValue, type SourceLocation } from '@squash/core';
import type { GridAxis } from '../grid/axes.js';
import type { ExpandedSweep } from '../grid/expand.js';
import { validateStage } from '../stages/registry.js';
import type { PathSegment } from './locate.js';
import type { LayerOverride, ReadExperiment } from './types.js';

type At = (path: PathSegment[], key?: string) => SourceLocation;

/**
 * `*` matches any run of characters; everything else literally. Matched piece by piece (leftmost
 * is enough when `*` is the only wildcard), not through a RegExp a long pattern would overflow.
 */
export function matchesLayer(pattern: string, layer: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === layer;
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (first.length + last.length > layer.length || !layer.startsWith(first) || !layer.endsWith(last)) return false;
  const end = layer.length - last.length;
  let at = first.length;
  for (const part of parts.slice(1, -1)) {
    const i = layer.indexOf(part, at);
    if (i < 0 || i + part.length > end) return false;
    at = i + part.length;
  }
  return true;
}

/** The param a compressor error is about: `retention` of `.retention` / `retention`. */
const errorKey = (e: ConfigError): string => e.location?.path?.replace(/^\./, '').split('.')[0] ?? '';

/** Where one value of an axis is written: its list element, else the param (or expression, or default). */
export function valuePath(axis: Pick<GridAxis, 'listed' | 'values' | 'path'>, v: ParamValue): PathSegment[] {
  const k = axis.listed ? axis.values.indexOf(v) : -1;
  return k >= 0 ? [...axis.path, k] : axis.path;
}

/** The distinct param sets one stage takes over the sweep's points. */
export function stageCombos(x: ExpandedSweep, stage: number): Array<Record<string, ParamValue>> {
  const axes = x.axes.filter((a) => a.stage === stage && !a.isLayer);
  const combos = new Map<string, Record<string, ParamValue>>();
  for (const p of x.points) {
    const combo = Object.fromEntries(axes.map((a) => [a.param, p[a.key]!]));
    combos.set(canonicalJson(combo), combo);
  }
  return [...combos.values()];
}

/**
 * Every param set a stage really runs with (after zip and exclude) goes through the stage's own
 * checks, so a cross-param rule (bits for a scheme) is checked per point; so does every layer
 * override merged with it, and each override must match a layer.
 */
function checkPoints(w: ReadExperiment, x: ExpandedSweep, i: number, at: At, errors: ConfigError[]): void {
  w.sweeps[i]!.stages.forEach((stage, j) => {
    const name = Object.keys(stage)[0]!;
    const stagePath: PathSegment[] = ['sweeps', i, 'stages', j, name];
    const axisOf = (param: string) => x.axes.find((a) => a.stage === j && a.param === param && !a.isLayer);
    const overrides = Array.isArray(stage[name]!.layers) ? (stage[name]!.layers as LayerOverride[]) : [];
    const layers = x.stageLayers[j];
    overrides.forEach((o, k) => {
      if (!layers?.length || layers.some((l) => matchesLayer(o.match, l))) return;
      const near = didYouMean(o.match, layers);
      errors.push(
        new ConfigError(`'${o.match}' matches no layer of the model${near ? `; did you mean '${near}'?` : ''}`, {
          location: at([...stagePath, 'layers', k, 'match']),
          hint: `layers: ${layers.join(', ')}`,
        }),
      );
    });
    for (const combo of stageCombos(x, j)) {
      for (const e of validateStage(name, combo, '')) {
        const key = errorKey(e);
        const axis = axisOf(key);
        errors.push(
          new ConfigError(e.message, {
            location: at(axis ? valuePath(axis, combo[key]!) : key ? [...stagePath, key] : stagePath),
            hint: e.hint,
          }),
        );
      }
      overrides.forEach((o, k) => {
        const { match: _m, skip: _s, ...own } = o;
        const path: PathSegment[] = [...stagePath, 'layers', k];
        for (const e of validateStage(name, { ...combo, ...(own as Record<string, ParamValue>) }, '')) {
          const key = errorKey(e);
          errors.push(new ConfigError(e.message, { location: at(key in own ? [...path, key] : path), hint: e.hint }));
        }
      });
    }
  });
}

/**
 * Reports the problems of every sweep's expansion (ranges, zip, exclude, defaults, layer axes:
 * `expandSweeps`, the same grid `planTrials` uses), each located, then checks each point. A grid
 * that expands to nothing is an error.
 */
export function gridRule(w: ReadExperiment, at: At, errors: ConfigError[], grid: ExpandedSweep[]): void {
  grid.forEach((x, i) => {
    for (const p of x.problems) errors.push(new ConfigError(p.message, { location: at(p.path, p.key), hint: p.hint }));
    if (x.points.length) checkPoints(w, x, i, at, errors);
  });
}
