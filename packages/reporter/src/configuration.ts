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
  // Hand-built rather than JSON.stringify of pairs: reports key 100,000 runs. Strings are quoted
  // (JSON), numbers and booleans are not, so no two configurations share a key.
  let key = `${JSON.stringify(r.sweep)},${JSON.stringify(r.label)}`;
  for (const k of Object.keys(r.params).sort()) {
    if (RECORD.has(k)) continue;
    const v = r.params[k];
    key += `,${JSON.stringify(k)}:${typeof v === 'string' ? JSON.stringify(v) : String(v)}`;
  }
  return key;
}

/** Whether two runs' params agree on every configuration param (`configKey` equality, without building keys). */
function sameConfig(a: RunView['params'], b: RunView['params']): boolean {
  let n = 0;
  for (const k in a) {
    if (RECORD.has(k)) continue;
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const k in b) if (!RECORD.has(k)) n--;
  return n === 0;
}

/**
 * Each run's configuration as a small integer (equal ⇔ same `configKey`), in run order. Grouped by
 * sweep and label first and compared param by param: no key string per run (100,000-run reports).
 */
export function configIndices(runs: readonly Pick<RunView, 'sweep' | 'label' | 'params'>[]): Uint32Array {
  const bySweep = new Map<string, Map<string, Array<{ params: RunView['params']; id: number }>>>();
  const out = new Uint32Array(runs.length);
  let next = 0;
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i]!;
    let byLabel = bySweep.get(r.sweep);
    if (!byLabel) bySweep.set(r.sweep, (byLabel = new Map()));
    let configs = byLabel.get(r.label);
    if (!configs) byLabel.set(r.label, (configs = []));
    let c = configs.find((x) => sameConfig(x.params, r.params));
    if (!c) configs.push((c = { params: r.params, id: next++ }));
    out[i] = c.id;
  }
  return out;
}
