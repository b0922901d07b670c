import { normalizeSearches } from '../search/spec.js';
import {
  TRAIN_DEFAULTS,
  type Experiment,
  type ReadExperiment,
  type WrittenExperiment,
  type WrittenSweep,
} from './types.js';

/** `seeds:` as written, else `repeats: N` as seeds 1…N, else one seed (1). */
export function seedsOf(w: Pick<WrittenExperiment, 'seeds' | 'repeats'>): number[] {
  if (w.seeds) return w.seeds;
  if (w.repeats) return Array.from({ length: w.repeats }, (_, i) => i + 1);
  return [1];
}

/**
 * Fills in defaults; the result is what trial ids are computed from. Sweeps stay as written
 * (ranges, zip, exclude, `layers: each`): `planTrials` expands them, with `defaults:` merged in.
 */
export function normalizeSpec(w: ReadExperiment): Experiment {
  const models = w.models ?? {};
  const model = typeof w.model === 'string' && models[w.model] ? { ...models[w.model]!, name: w.model } : w.model;
  // A model from a file is the baseline as it is; train.epochs (or iterations) trains it further.
  const fromFile = typeof model === 'object' && model.source !== undefined && w.train?.iterations === undefined;
  const written = w.train ?? {};
  const defaults = Object.entries({ ...TRAIN_DEFAULTS, ...(fromFile ? { epochs: 0 } : {}) }).filter(
    ([k]) => !(k in written),
  );
  return {
    name: w.name,
    description: w.description ?? '',
    tags: Object.fromEntries(Object.entries(w.tags ?? {}).map(([k, v]) => [k, String(v)])),
    reference: w.reference,
    // A named model from `models:` is inlined, so trial ids hash the architecture itself.
    model,
    models,
    dataset: w.dataset,
    // As written (its fields in written order: the first axis varies slowest), then the defaults.
    train: { ...written, ...Object.fromEntries(defaults) },
    seeds: seedsOf(w),
    defaults: w.defaults ?? {},
    // A search's candidates are sweeps of one point each, under the search's name.
    sweeps: [
      ...w.sweeps,
      ...(w.candidates ?? []).map((c) => ({ name: c.search, stages: c.stages as WrittenSweep['stages'] })),
    ],
    searches: normalizeSearches(w),
  };
}
