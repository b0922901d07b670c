import { join } from 'node:path';
import { isEnvironmentError, SpecError } from '@squash/core';
import type { Dataset } from '@squash/datasets';
import type { RecordedResult, RunStore, WorkerIdentity } from '@squash/store';
import { type Baseline, obtainBaseline } from '../baseline.js';
import { stateKey } from '../pipeline/run.js';
import { baselineLabel, planTrials, trialLabel } from '../plan.js';
import { cachesState, getStage } from '../stages/registry.js';
import { parseSpec } from '../spec/parse.js';
import type { Experiment, Trial } from '../spec/types.js';
import { baselineRecord } from './baselines.js';
import { CALIBRATION_SAMPLES, head, loadExperimentData } from './context.js';
import { InterruptedError, StopRequest } from './stop.js';
import { computeTrial, type TrialRecord } from './work.js';

/**
 * One unit of queued work, found in an experiment's plan: a trial, or the baseline that trials
 * share (`trial` is then the first trial planned on it). A queue worker runs it without a store;
 * the recorder writes what it returns.
 */
export type QueuedUnit = { kind: 'trial'; trial: Trial } | { kind: 'baseline'; trial: Trial };

/** The experiment a job was planned from, parsed again from its text: every problem thrown at once. */
export function experimentFromText(text: string, file: string): Experiment {
  const { experiment, errors } = parseSpec(text, file);
  if (errors.length || !experiment) throw new SpecError(errors);
  return experiment;
}

/** The unit an id names in the experiment's plan, or undefined when this plan has no such id. */
export function findUnit(exp: Experiment, kind: QueuedUnit['kind'], id: string): QueuedUnit | undefined {
  const trials = planTrials(exp);
  const trial = kind === 'trial' ? trials.find((t) => t.id === id) : trials.find((t) => t.baselineId === id);
  return trial && { kind, trial };
}

/**
 * The pipeline-state cache entries (`<cacheDir>/states/<key>/`) a trial can reuse or leave: one
 * per stage that caches its state (training, model-rebuilding stages), keyed as `runPipeline` keys them.
 */
export function trialStateKeys(exp: Experiment, trial: Trial): string[] {
  const ctx = { baselineId: trial.baselineId, models: exp.models };
  return trial.stages.flatMap((s, i) => (cachesState(getStage(s.compressor)) ? [stateKey(ctx, trial.stages, i)] : []));
}

/** What running a unit gives back: the run's record, or why it failed (an error of its own, not the machine's). */
export type UnitResult =
  | { status: 'FINISHED'; accuracy: number; record: TrialRecord }
  | { status: 'FAILED'; error: string; message: string };

export interface UnitContext {
  /** This machine's cache: trained baselines (`baselines/<id>/`) and pipeline states (`states/`). */
  cacheDir: string;
  /** Where a trial's `.sqz` is written before it is sent back. */
  artifactDir: string;
  backend: string;
  stop?: StopRequest;
}

/** Data per experiment text, loaded once per process (a sandboxed child runs many jobs). */
const loaded = new Map<string, Promise<Dataset>>();

export function experimentData(exp: Experiment): Promise<Dataset> {
  const key = `${exp.file}\0${exp.text}`;
  let data = loaded.get(key);
  if (!data) {
    data = loadExperimentData(exp);
    data.catch(() => loaded.delete(key));
    loaded.set(key, data);
  }
  return data;
}

/** The baseline from this machine's cache, trained there when absent (the cache's lock keeps it once per machine). */
export function queuedBaseline(trial: Trial, data: Dataset, ctx: UnitContext): Promise<Baseline> {
  return obtainBaseline(trial.baselineId, trial.baseline, data, {
    cacheDir: ctx.cacheDir,
    backend: ctx.backend,
    checkStop: ctx.stop?.checkpoint,
  });
}

/** A baseline unit: trained (or found in the cache), with the record its run stores. */
export async function runBaselineUnit(
  trial: Trial,
  data: Dataset,
  ctx: UnitContext,
): Promise<{ baseline: Baseline; result: UnitResult }> {
  const baseline = await queuedBaseline(trial, data, ctx);
  const record = baselineRecord(trial, baseline, data);
  return { baseline, result: { status: 'FINISHED', accuracy: baseline.accuracy, record } };
}

/**
 * A trial unit on its baseline, by the code `squash run` runs (`computeTrial`): the same numbers.
 * A trial that fails on its own (a stage's error) is a FAILED result, as a local run records it;
 * a stop or an unusable machine (a full disk) is thrown, so the job runs again elsewhere.
 */
export async function runTrialUnit(
  exp: Experiment,
  trial: Trial,
  data: Dataset,
  baseline: Baseline,
  ctx: UnitContext,
): Promise<UnitResult> {
  const stop = ctx.stop ?? new StopRequest();
  try {
    const { accuracy, record } = await computeTrial(
      trial,
      trialLabel(trial.stages, trial.trainAxes),
      head(data.train, CALIBRATION_SAMPLES),
      {
        exp,
        baselines: new Map([[trial.baselineId, baseline]]),
        data,
        artifactDir: ctx.artifactDir,
        stateCacheDir: join(ctx.cacheDir, 'states'),
        emit: () => {},
        stop,
      },
    );
    return { status: 'FINISHED', accuracy, record };
  } catch (e) {
    if (e instanceof InterruptedError || isEnvironmentError(e)) throw e;
    return { status: 'FAILED', error: (e as Error).stack ?? String(e), message: (e as Error).message };
  }
}

/** Where the recorder writes: the experiment and sweep rows of this invocation. */
export interface RecordTarget {
  store: RunStore;
  experimentId: number;
  sweepId: number;
  tags?: Record<string, string>;
}

/**
 * Stores a unit's result as a run, exactly once per `key` (the job id and its attempt): a result
 * delivered again (a recorder restarted before it removed the job) writes nothing. Returns the
 * new run id, or undefined when it was already recorded.
 */
export function recordUnit(
  target: RecordTarget,
  unit: QueuedUnit,
  result: UnitResult | { status: 'FAILED'; error: string },
  worker: WorkerIdentity,
  key: string,
): string | undefined {
  const { trial } = unit;
  const isBaseline = unit.kind === 'baseline';
  const end: RecordedResult =
    result.status === 'FINISHED'
      ? { status: 'FINISHED', ...result.record, tags: { ...target.tags, ...result.record.tags } }
      : { status: 'FAILED', error: result.error, ...(target.tags ? { tags: target.tags } : {}) };
  return target.store.recordRun(
    {
      experimentId: target.experimentId,
      trialId: isBaseline ? trial.baselineId : trial.id,
      sweep: isBaseline ? 'baseline' : trial.sweep,
      label: isBaseline ? baselineLabel(trial.trainAxes) : trialLabel(trial.stages, trial.trainAxes),
      isBaseline,
      seed: trial.baseline.seed,
      backend: worker.backend,
      config: isBaseline ? { baseline: trial.baseline } : { baseline: trial.baseline, stages: trial.stages },
      sweepId: target.sweepId,
      worker,
    },
    end,
    key,
  );
}
