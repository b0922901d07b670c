import type { EpochLog } from '@squash/trainer';

/**
 * Where a training epoch belongs: a trial's stage (and the round of iterative pruning), or the
 * baseline when `stage` is absent. Positions count from 1.
 */
export interface TrainingPlace {
  /** Epochs this training runs: `log.epoch` counts 1 … epochs. */
  epochs: number;
  /** The training stage (`finetune`, `prune-iterative`, …). */
  stage?: string;
  /** The stage's position in the trial, of `stages`. */
  stageIndex?: number;
  stages?: number;
  /** Iterative pruning: the prune → retrain round, of `rounds`. */
  round?: number;
  rounds?: number;
}

/**
 * What a run reports as it goes; `--json` prints these one per line. The contract between the
 * runner and the CLI: every field a renderer shows comes from here.
 */
export type RunEvent =
  | { type: 'start'; experiment: string; trials: number; done: number; backend: string; reason: string; jobs: number }
  /** This process trains the baseline of `seed` now (a cache miss). */
  | { type: 'baseline-start'; seed: number; baselineId: string; epochs: number; file?: string }
  /** Another process (`holder`: host:pid) is training this baseline; this one waits for its model. */
  | { type: 'baseline-wait'; seed: number; baselineId: string; holder?: string }
  /** `file`: the model file the baseline is (as saved, or trained further from it). */
  | { type: 'baseline'; seed: number; cacheHit: boolean; accuracy: number; seconds: number; file?: string }
  /** Something was wrong and handled (a damaged cache entry retrained): worth a line, not a failure. */
  | { type: 'warning'; message: string }
  /** A search's progress: its strategy, curves measured, trials done and the best so far. */
  | { type: 'search'; search: string; message: string }
  /** A trial's stage starts (`stageIndex` of `stages`). */
  | { type: 'stage'; trialId: string; label: string; stage: string; stageIndex: number; stages: number }
  /** One training epoch: of the baseline of `seed`, or (with `trialId`) of a trial's training stage. */
  | ({ type: 'epoch'; seed: number; log: EpochLog; trialId?: string; label?: string } & TrainingPlace)
  | { type: 'running'; runId: string; trialId: string; label: string; index: number; total: number; attempt: number }
  | {
      type: 'trial';
      trialId: string;
      sweep: string;
      label: string;
      status: 'FINISHED' | 'FAILED' | 'SKIPPED' | 'KILLED';
      accuracy?: number;
      error?: string;
      index: number;
      total: number;
      seconds?: number;
    }
  | { type: 'done'; finished: number; skipped: number; failed: number; killed: number; elsewhere: number };

export type Emit = (e: RunEvent) => void;

export interface RunSummary {
  finished: number;
  /** Already FINISHED before this invocation (or by another process during it). */
  skipped: number;
  failed: number;
  killed: number;
  /** Still RUNNING in another live process when this one ended. */
  elsewhere: number;
}
