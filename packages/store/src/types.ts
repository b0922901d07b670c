import type { MetricInput, ParamValue, RunStatus, RunView } from '@squash/contract';
import type { SearchOptions, SearchResult } from './search/search.js';

export type { MetricInput, RunStatus, RunView };

/** Who runs a trial: recorded on the run, and how a later process tells whether it is still alive. */
export interface WorkerIdentity {
  host: string;
  pid: number;
  /** One id per `squash run` invocation, shared by its worker processes. */
  invocation: string;
  version: string;
  backend: string;
}

export interface NewRun {
  experimentId: number;
  trialId: string;
  sweep: string;
  label: string;
  isBaseline: boolean;
  seed: number;
  backend: string;
  config: unknown;
  /** The recorded experiment file it was planned from (`recordSweep`). */
  sweepId?: number;
  /** 1 for a trial's first run (the default), n for its n-th. */
  attempt?: number;
  /** The process running it: host, pid, invocation and version are recorded, its heartbeat starts now. */
  worker?: WorkerIdentity;
}

export interface ClaimRequest extends Omit<NewRun, 'backend' | 'attempt' | 'worker'> {
  /** Rerun even if an earlier invocation FINISHED it. */
  force?: boolean;
}

export type ClaimResult =
  | { claimed: true; runId: string; attempt: number }
  | { claimed: false; reason: 'finished' | 'running' | 'attempted' };

/** The end of a run that ran elsewhere (`recordRun`). */
export interface RecordedResult extends RunBatch {
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  error?: string;
  artifacts?: RunArtifact[];
}

/** What one `logBatch` records on a run; keys already present are overwritten. */
export interface RunBatch {
  params?: Record<string, ParamValue>;
  metrics?: MetricInput[];
  tags?: Record<string, string>;
}

/** A file a run produced (the compressed model, …), by kind. */
export interface RunArtifact {
  kind: string;
  path: string;
  bytes: number;
  /** sha256 (hex) of the file as written, so a reader can tell it was altered since. */
  sha256?: string;
}

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
  /**
   * Each run's configuration as a small integer: equal for runs of the same sweep and label whose
   * params differ only in RUN_RECORD_PARAMS (seeds of one configuration, which reports average).
   */
  configs: Uint32Array;
  /** Per metric key asked for: each run's final value, NaN when it has none. */
  metrics: Record<string, Float64Array>;
}

/** Per experiment and status: how many runs, and when the latest started (`squash ls`). */
export interface StatusCount {
  experiment: string;
  sweeps: number;
  status: RunStatus | null;
  runs: number;
  last: string | null;
}

/**
 * The store contract (MLflow's AbstractStore shape). Every write is one transaction: all of it
 * lands or none. The primitive writes are `createRun`, `logBatch`, `setStatus`, `logArtifact` (plus
 * the experiment-level `ensureExperiment`, `recordSweep`, `heartbeat`); `setTags`, `finishRun` and
 * `claimRun` are built on them. Reads see one consistent snapshot each.
 */
export interface RunStore {
  /** Where the store lives, so worker processes can open it too. */
  readonly path: string;

  // Primitive writes.
  /** The experiment's id, creating it (or updating its description). */
  ensureExperiment(name: string, description: string): number;
  /** Records the experiment file's text once per distinct content; returns its id. */
  recordSweep(experimentId: number, text: string, file: string | undefined): number;
  /** A new RUNNING run; returns its id. */
  createRun(run: NewRun): string;
  logBatch(runId: string, batch: RunBatch): void;
  /** FINISHED, FAILED and KILLED also record the end time. */
  setStatus(runId: string, status: RunStatus, error?: string): void;
  logArtifact(runId: string, artifact: RunArtifact): void;
  /** Marks the given RUNNING runs as alive now. */
  heartbeat(runIds: string[]): void;

  // Built on the primitives.
  setTags(runId: string, tags: Record<string, string>): void;
  /** `logBatch`, `logArtifact` for each artifact and `setStatus(FINISHED)`, in one transaction. */
  finishRun(runId: string, batch: RunBatch & { artifacts?: RunArtifact[] }): void;
  /**
   * Atomically decides whether this worker runs a trial: not if it is FINISHED (unless forced),
   * RUNNING in a live process, or already attempted in this invocation; a RUNNING run whose
   * process died is marked KILLED first. Two processes can never both claim one trial.
   */
  claimRun(req: ClaimRequest, worker: WorkerIdentity): ClaimResult;
  /**
   * A run that ran elsewhere (a queue worker), recorded whole in one transaction: created as the
   * trial's next attempt with its final status, batch and artifacts, and tagged `queue.job` = `key`.
   * Idempotent by `key`: when a run of this trial already carries it, nothing is written (undefined).
   */
  recordRun(run: Omit<NewRun, 'attempt'>, result: RecordedResult, key: string): string | undefined;

  // Reads.
  /** Every experiment with its run count, by name. */
  experiments(): Array<{ name: string; description: string; runs: number }>;
  /** The experiment's runs, baselines first, then in the order they were claimed. */
  listRuns(experiment: string): RunView[];
  /** `listRuns` order, as columns with only the named final metrics (a report's row choice). */
  listRunHeads(experiment: string, metricKeys: readonly string[]): RunHeads;
  /** Full views of runs given by rowid (from `listRunHeads`), in the given order. */
  runsByRowid(rowids: number[]): RunView[];
  /** Views of runs by id, in the given order (unknown ids left out). */
  runsById(ids: string[]): RunView[];
  /** One run by id or unique id prefix; a ConfigError names what is wrong. */
  getRun(idOrPrefix: string): RunView;
  /** Every run of a trial (id or prefix) in any experiment, oldest first: its history. */
  runsOfTrial(trialIdOrPrefix: string): RunView[];
  /** The latest run of every trial of an experiment (a FINISHED one wins over later failures). */
  latestByTrial(experiment: string): Map<string, { status: RunStatus; attempt: number; runId: string }>;
  /** The backends an experiment's runs used. */
  experimentBackends(experiment: string): string[];
  /** The text last recorded for the experiment (that contains `containing`, when given): a search's candidates are in it. */
  latestSweepText(experiment: string, containing?: string): string | undefined;
  /** Per experiment: sweeps recorded and runs per status. */
  statusCounts(): StatusCount[];
  /** Host, pid and last heartbeat of a run (what `show` prints beside the view). */
  runDetails(runId: string): { host: string | null; pid: number | null; heartbeatAt: string | null };
  /**
   * What a run was configured with (`config` as the runner recorded it: the trial's baseline and
   * stages) and the experiment file its sweep was read from, as given on the command line.
   */
  runConfig(runId: string): { config: unknown; experimentFile: string | null };
  /** Whether any run of this invocation FAILED (for --fail-fast across worker processes). */
  invocationFailed(invocation: string): boolean;
  /**
   * The runs matching a filter in the search language (see `parseFilter`; blank matches every
   * run), as rows of the requested columns. Throws QueryError/ConfigError on bad input.
   */
  searchRuns(filter: string, options?: SearchOptions): SearchResult;
  /** Whether any run (of `experiment`, when given) has this metric, param or tag key. */
  hasKey(kind: 'metrics' | 'params' | 'tags', key: string, experiment?: string): boolean;
  /** Every distinct metric, param or tag key, sorted (for suggesting the one a typo meant). */
  keys(kind: 'metrics' | 'params' | 'tags'): string[];

  close(): void;
}

/** A RUNNING run whose process is gone (`squash doctor`). */
export interface DeadRun {
  id: string;
  experiment: string;
  label: string;
  /** Which process stopped, and since when nothing was heard of it. */
  reason: string;
}

/** One problem `squash doctor` found, and what it did or what the user can do about it. */
export interface Finding {
  /** What is wrong, naming the file, run or cache entry. */
  problem: string;
  /** What `--repair` did about it; unset: nothing (yet). */
  repaired?: string;
  /** `--repair` can fix it safely. */
  repairable: boolean;
  /** What to do when doctor cannot repair it. */
  action?: string;
}
