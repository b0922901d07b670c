import type { EpochLog } from '@squash/trainer';

/** What a run reports as it goes; `--json` prints these one per line. */
export type RunEvent =
  | { type: 'start'; experiment: string; trials: number; done: number; backend: string; reason: string; jobs: number }
  | { type: 'baseline'; seed: number; cacheHit: boolean; accuracy: number; seconds: number }
  | { type: 'epoch'; seed: number; log: EpochLog; label?: string }
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
