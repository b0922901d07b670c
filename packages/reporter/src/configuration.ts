import { RUN_RECORD_PARAMS, type RunView } from '@squash/contract';

const RECORD = new Set<string>(RUN_RECORD_PARAMS);

/** Whether a param says what a run computes (not how it went: its seed, cache hits, …). */
export const isConfigParam = (key: string): boolean => !RECORD.has(key);

/**
 * One string per configuration: the sweep, the label (which spells the stage params, never the
 * seed) and every param but the run-record ones. Runs with the same key differ only by seed (and
 * how they ran); reports average over them.
 */
export function configKey(r: Pick<RunView, 'sweep' | 'label' | 'params'>): string {
  const keys = Object.keys(r.params).filter(isConfigParam).sort();
  return JSON.stringify([r.sweep, r.label, ...keys.map((k) => [k, r.params[k]])]);
}

/** Each run's configuration as a small integer (equal ⇔ same `configKey`), in run order. */
export function configIndices(runs: readonly Pick<RunView, 'sweep' | 'label' | 'params'>[]): Uint32Array {
  const ids = new Map<string, number>();
  const out = new Uint32Array(runs.length);
  runs.forEach((r, i) => {
    const key = configKey(r);
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size));
    out[i] = id;
  });
  return out;
}
