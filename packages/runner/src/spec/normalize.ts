import { TRAIN_DEFAULTS, type Experiment, type WrittenExperiment } from './types.js';

/** Fills in defaults; the result is what trial ids are computed from. */
export function normalizeSpec(w: WrittenExperiment): Experiment {
  return {
    name: w.name,
    description: w.description ?? '',
    // A named model from `models:` is inlined, so trial ids hash the architecture itself.
    model: typeof w.model === 'string' && w.models?.[w.model] ? { ...w.models[w.model]!, name: w.model } : w.model,
    models: w.models ?? {},
    dataset: w.dataset,
    train: { ...TRAIN_DEFAULTS, ...w.train },
    seeds: w.seeds ?? [1],
    sweeps: w.sweeps,
  };
}
