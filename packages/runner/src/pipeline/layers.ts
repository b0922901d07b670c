import type { ParamValue } from '@squash/core';
import type { Params } from '@squash/compressors';
import { matchesLayer } from '../spec/rules.js';
import type { Stage } from '../spec/types.js';

/** `dense_1/kernel` → `dense_1`. */
export const layerOf = (weightName: string): string => weightName.split('/')[0]!;

/**
 * The params a stage uses for one layer: the stage's own, overridden by the first `layers:` entry
 * whose `match` fits; undefined when that entry says `skip`.
 */
export function paramsForLayer(stage: Stage, layer: string): Params | undefined {
  const o = stage.layers?.find((x) => matchesLayer(x.match, layer));
  if (!o) return stage.params;
  if (o.skip) return undefined;
  const own: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(o)) if (k !== 'match' && k !== 'skip' && v !== undefined) own[k] = v;
  return { ...stage.params, ...own };
}

/** Groups items by the params each gets, so one `apply` call sees all layers sharing settings (global scope). */
export function groupByParams<T>(
  items: T[],
  stage: Stage,
  layerName: (t: T) => string,
): Array<{ params: Params; items: T[] }> {
  const groups = new Map<string, { params: Params; items: T[] }>();
  for (const item of items) {
    const params = paramsForLayer(stage, layerName(item));
    if (!params) continue;
    const key = JSON.stringify(Object.entries(params).sort());
    const g = groups.get(key) ?? { params, items: [] };
    g.items.push(item);
    groups.set(key, g);
  }
  return [...groups.values()];
}
