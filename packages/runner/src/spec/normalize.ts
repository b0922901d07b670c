import { TRAIN_DEFAULTS, type Experiment, type WrittenExperiment } from './types.js';

/** Fills in defaults; the result is what trial ids are computed from. */
export function normalizeSpec(w: WrittenExperiment): Experiment {
  return {
    name: w.name,
    description: w.description ?? '',
    model: w.model,
    dataset: w.dataset,
    train: { ...TRAIN_DEFAULTS, ...w.train },
    seeds: w.seeds ?? [1],
    sweeps: w.sweeps,
  };
}
