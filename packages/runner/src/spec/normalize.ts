import { TRAIN_DEFAULTS, type Experiment, type WrittenExperiment } from './types.js';

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
export function normalizeSpec(w: WrittenExperiment): Experiment {
  return {
    name: w.name,
    description: w.description ?? '',
    tags: Object.fromEntries(Object.entries(w.tags ?? {}).map(([k, v]) => [k, String(v)])),
    reference: w.reference,
    // A named model from `models:` is inlined, so trial ids hash the architecture itself.
    model: typeof w.model === 'string' && w.models?.[w.model] ? { ...w.models[w.model]!, name: w.model } : w.model,
    models: w.models ?? {},
    dataset: w.dataset,
    train: { ...TRAIN_DEFAULTS, ...w.train },
    seeds: seedsOf(w),
    defaults: w.defaults ?? {},
    sweeps: w.sweeps,
  };
}
