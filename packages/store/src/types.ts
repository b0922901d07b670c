import type { MetricInput, ParamValue, RunStatus, RunView } from '@squash/contract';

export type { MetricInput, RunStatus, RunView };

export interface NewRun {
  experimentId: number;
  trialId: string;
  sweep: string;
  label: string;
  isBaseline: boolean;
  seed: number;
  backend: string;
  config: unknown;
}

/** Who runs a trial: recorded on the run, and how a later process tells whether it is still alive. */
export interface WorkerIdentity {
  host: string;
  pid: number;
  /** One id per `squash run` invocation, shared by its worker processes. */
  invocation: string;
  version: string;
  backend: string;
}

export interface ClaimRequest extends Omit<NewRun, 'backend'> {
  sweepId?: number;
  /** Rerun even if an earlier invocation FINISHED it. */
  force?: boolean;
}

export type ClaimResult =
  | { claimed: true; runId: string; attempt: number }
  | { claimed: false; reason: 'finished' | 'running' | 'attempted' };

/**
 * An experiment's runs reduced to what choosing a report's rows needs, as columns (entry i is one
 * run, baselines first, then in claim order): numbers and the trial id, no object per run, so
 * 100,000 of them are cheap to read. `rowids` fetch full views (`runsByRowid`).
 */
export interface RunHeads {
  length: number;
  rowids: Float64Array;
  trialIds: string[];
  isBaseline: Uint8Array;
  finished: Uint8Array;
  seeds: Float64Array;
  /** Per metric key asked for: each run's final value, NaN when it has none. */
  metrics: Record<string, Float64Array>;
}

/**
 * The store contract. Primitives are `createRun`, `logBatch`, `setStatus` and `listRuns`; the
 * rest is built on them (MLflow's AbstractStore shape) so another backend implements four calls.
 */
export interface RunStore {
  /** Where the store lives, so worker processes can open it too. */
  readonly path: string;
  ensureExperiment(name: string, description: string): number;
  createRun(run: NewRun): string;
  logBatch(runId: string, batch: { params?: Record<string, ParamValue>; metrics?: MetricInput[] }): void;
  setStatus(runId: string, status: RunStatus, error?: string): void;
  /** Logs the batch and marks the run FINISHED in one transaction: all of it lands or none. */
  finishRun(
    runId: string,
    batch: {
      params?: Record<string, ParamValue>;
      metrics?: MetricInput[];
      artifacts?: Array<{ kind: string; path: string; bytes: number }>;
    },
  ): void;
  /** Records a file a run produced (the compressed model, …); part of `finishRun`'s transaction when passed there. */
  logArtifact(runId: string, artifact: { kind: string; path: string; bytes: number }): void;
  listRuns(experiment: string): RunView[];
  experiments(): Array<{ name: string; description: string; runs: number }>;
  /**
   * Atomically decides whether this worker runs a trial: not if it is FINISHED (unless forced),
   * RUNNING in a live process, or already attempted in this invocation; a RUNNING run whose
   * process died is marked KILLED first. Two processes can never both claim one trial.
   */
  claimRun(req: ClaimRequest, worker: WorkerIdentity): ClaimResult;
  /** Whether any run of this invocation FAILED (for --fail-fast across worker processes). */
  invocationFailed(invocation: string): boolean;
  setTags(runId: string, tags: Record<string, string>): void;
  /** Marks the given runs as alive now. */
  heartbeat(runIds: string[]): void;
  /** Records the experiment file's text once per distinct content; returns its id. */
  recordSweep(experimentId: number, text: string, file: string | undefined): number;
  /** The latest run of every trial of an experiment. */
  latestByTrial(experiment: string): Map<string, { status: RunStatus; attempt: number; runId: string }>;
  close(): void;
}
