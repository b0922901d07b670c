/** A param value as stored and queried: one scalar. */
export type ParamValue = number | string | boolean;

export const RUN_STATUSES = ['SCHEDULED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * Params a run records about how it went rather than what it computes: its seed (the replicate
 * axis), the baseline run it started from, whether a cache served it, where its baseline trained
 * and which engine trained it (`training_path`: the native plan or tfjs' autograd),
 * where its data lay (`dataset.sha256`, the content, is what it computes on).
 * Runs of one sweep equal in every other param are one configuration: reports average over them
 * ("mean ± std over seeds") and put the configuration, not each seed, on the Pareto front.
 */
export const RUN_RECORD_PARAMS = [
  'seed',
  'baseline_run',
  'cache_hit',
  'trained_on',
  'training_path',
  'dataset.path',
] as const;

/** A run as callers see it: params typed, final metrics (step 0) by key. */
export interface RunView {
  id: string;
  experiment: string;
  trialId: string;
  sweep: string;
  label: string;
  isBaseline: boolean;
  status: RunStatus;
  seed: number;
  /** 1 for a trial's first run, n for its n-th (reruns after a crash or --force). */
  attempt: number;
  backend: string | null;
  /** The Squash version that ran it (null for runs created outside the runner). */
  squashVersion: string | null;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
  params: Record<string, ParamValue>;
  metrics: Record<string, number>;
  /** Files a run wrote; `sha256` (hex) of the bytes as written, for runs recorded since checksums were. */
  artifacts: Record<string, { path: string; bytes: number; sha256?: string }>;
  tags: Record<string, string>;
}

/** Hidden-activation quantization of one layer, calibrated on training data (artifact header, pipeline state, cache). */
export interface ActivationQuant {
  bits: number;
  min: number;
  max: number;
}

/** Number of entries that are not zero (kept weights, mask ones). */
export function countNonzero(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) n++;
  return n;
}

/** A published table to compare with: each row names the runs it matches and the source's values. */
export interface Reference {
  source?: string;
  rows: Array<{
    name: string;
    sweep?: string;
    params?: Record<string, string | number | boolean>;
    metrics: Record<string, number>;
  }>;
}
