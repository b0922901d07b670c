import { dirname, join, resolve } from 'node:path';
import { selectBackend, type BackendPreference, type ParamValue } from '@squash/core';
import { loadDataset, type Dataset, type Split } from '@squash/datasets';
import { getWeights, modelRegistry, resolveModelSpec, type EpochLog, type ModelSpec } from '@squash/trainer';
import { obtainBaseline, type Baseline } from './baseline.js';
import { runPipeline } from './pipeline/run.js';
import { writeTrialArtifact } from './pipeline/artifact.js';
import type { PipelineContext } from './pipeline/state.js';
import { trialMetrics } from './trial_metrics.js';
import { planTrials, trialLabel } from './plan.js';
import type { Experiment, Trial } from './spec/types.js';
import type { MetricInput, RunStore } from './store/types.js';

/** Hidden-activation ranges are calibrated on this many training samples (never test data). */
export const CALIBRATION_SAMPLES = 1000;

export type RunEvent =
  | { type: 'start'; experiment: string; trials: number; done: number; backend: string; reason: string }
  | { type: 'baseline'; seed: number; cacheHit: boolean; accuracy: number; seconds: number }
  | { type: 'epoch'; seed: number; log: EpochLog; label?: string }
  | { type: 'running'; runId: string; label: string }
  | { type: 'trial'; trial: Trial; label: string; status: 'FINISHED' | 'FAILED' | 'SKIPPED'; accuracy?: number; error?: string; index: number; total: number };

export interface RunOptions {
  store: RunStore;
  /** Trained baselines are cached here (default: `cache/` beside the database). */
  cacheDir: string;
  /** Compressed models (`<trial id>.sqz`) are written here (default: `artifacts/` beside the database). */
  artifactDir?: string;
  backend?: BackendPreference;
  onEvent?: (e: RunEvent) => void;
}

export interface RunSummary {
  finished: number;
  skipped: number;
  failed: number;
}

function trialParams(trial: Trial): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = {
    model: typeof trial.baseline.model === 'string' ? trial.baseline.model : trial.baseline.model.name,
    dataset: trial.baseline.dataset.name,
    seed: trial.baseline.seed,
    epochs: trial.baseline.train.epochs,
    batch_size: trial.baseline.train.batchSize,
    learning_rate: trial.baseline.train.learningRate,
  };
  for (const s of trial.stages) for (const [k, v] of Object.entries(s.params)) params[`${s.compressor}.${k}`] = v;
  params.stages = trial.stages.map((s) => s.compressor).join('+');
  return params;
}

function head(split: Split, n: number): Split {
  const count = Math.min(n, split.count);
  const per = split.x.length / split.count;
  return { x: split.x.subarray(0, count * per), y: split.y.subarray(0, count), count };
}

/**
 * Runs every trial of an experiment that is not already FINISHED in the store: one baseline per
 * seed (cached), then each trial compresses a copy of it, evaluates on the test split and is
 * written with its metrics in one transaction. A failing trial is stored FAILED and the rest go on.
 */
export async function runExperiment(exp: Experiment, opts: RunOptions): Promise<RunSummary> {
  const { store } = opts;
  const emit = opts.onEvent ?? (() => {});
  const backend = await selectBackend({ prefer: opts.backend });
  const trials = planTrials(exp);
  const experimentId = store.ensureExperiment(exp.name, exp.description);
  const pending = trials.filter((t) => !store.findFinished(experimentId, t.id));
  emit({ type: 'start', experiment: exp.name, trials: trials.length, done: trials.length - pending.length, backend: backend.name, reason: backend.reason });

  const summary: RunSummary = { finished: 0, skipped: trials.length - pending.length, failed: 0 };
  trials.filter((t) => !pending.includes(t)).forEach((t) =>
    emit({ type: 'trial', trial: t, label: trialLabel(t.stages), status: 'SKIPPED', index: trials.indexOf(t) + 1, total: trials.length }));
  if (!pending.length) return summary;

  const data: Dataset = await loadDataset(exp.dataset, { baseDir: exp.file ? dirname(resolve(exp.file)) : process.cwd() });
  const calibration = head(data.train, CALIBRATION_SAMPLES);
  const baselines = new Map<string, Baseline>();
  const artifactDir = opts.artifactDir ?? join(dirname(opts.cacheDir), 'artifacts');

  for (const trial of pending) {
    let baseline = baselines.get(trial.baselineId);
    if (!baseline) {
      baseline = await ensureBaseline(trial, data, experimentId, backend.name, opts, emit);
      baselines.set(trial.baselineId, baseline);
    }
    const index = trials.indexOf(trial) + 1;
    const label = trialLabel(trial.stages);
    const runId = store.createRun({
      experimentId, trialId: trial.id, sweep: trial.sweep, label, isBaseline: false, seed: trial.baseline.seed, backend: backend.name,
      config: { baseline: trial.baseline, stages: trial.stages },
    });
    emit({ type: 'running', runId, label });
    try {
      const t0 = performance.now();
      const ctx: PipelineContext = {
        data, calibration, teacher: baseline.model, train: trial.baseline.train, seed: trial.baseline.seed,
        resolveModel: (name) => (exp.models[name] ? { ...exp.models[name]!, name } : modelRegistry.get(name)),
        onEpoch: (log) => emit({ type: 'epoch', seed: trial.baseline.seed, log, label }),
      };
      const baselineSpec: ModelSpec = resolveModelSpec(trial.baseline.model);
      const { state, evaluation, validation } = await runPipeline(baseline.model, baselineSpec, trial.stages, ctx);
      const artifact = writeTrialArtifact(state, ctx, join(artifactDir, `${trial.id}.sqz`));
      const metrics: MetricInput[] = trialMetrics({
        evaluation, validation, baselineAccuracy: baseline.accuracy, baselineWeights: getWeights(baseline.model), state, artifact,
        seconds: (performance.now() - t0) / 1000,
      });
      state.model.dispose();
      store.finishRun(runId, {
        params: { ...trialParams(trial), baseline_run: baseline.id },
        metrics,
        artifacts: [{ kind: 'model', path: artifact.path, bytes: artifact.bytes }],
      });
      summary.finished++;
      emit({ type: 'trial', trial, label, status: 'FINISHED', accuracy: evaluation.accuracy, index, total: trials.length });
    } catch (e) {
      const message = (e as Error).stack ?? String(e);
      store.setStatus(runId, 'FAILED', message);
      summary.failed++;
      emit({ type: 'trial', trial, label, status: 'FAILED', error: (e as Error).message, index, total: trials.length });
    }
  }
  for (const b of baselines.values()) b.model.dispose();
  return summary;
}

/** Obtains the baseline and records it as a run of its own (once per experiment and seed). */
async function ensureBaseline(
  trial: Trial, data: Dataset, experimentId: number, backend: string, opts: RunOptions, emit: (e: RunEvent) => void,
): Promise<Baseline> {
  const { store } = opts;
  const seed = trial.baseline.seed;
  const b = await obtainBaseline(trial.baselineId, trial.baseline, data, opts.cacheDir, backend, (log) => emit({ type: 'epoch', seed, log }));
  emit({ type: 'baseline', seed, cacheHit: b.cacheHit, accuracy: b.accuracy, seconds: b.trainSeconds });
  if (!store.findFinished(experimentId, trial.baselineId)) {
    const runId = store.createRun({
      experimentId, trialId: trial.baselineId, sweep: 'baseline', label: 'baseline', isBaseline: true, seed, backend,
      config: { baseline: trial.baseline },
    });
    const curves: MetricInput[] = b.history.flatMap((h) => [
      { key: 'train_loss', value: h.loss, step: h.epoch },
      { key: 'train_accuracy', value: h.accuracy, step: h.epoch },
      ...(h.valAccuracy !== undefined ? [{ key: 'val_accuracy', value: h.valAccuracy, step: h.epoch }, { key: 'val_loss', value: h.valLoss!, step: h.epoch }] : []),
    ]);
    store.finishRun(runId, {
      params: { ...trialParams({ ...trial, stages: [] }), cache_hit: b.cacheHit, trained_on: b.trainedOn },
      metrics: [
        { key: 'accuracy', value: b.accuracy },
        { key: 'loss', value: b.loss },
        { key: 'accuracy_delta', value: 0 },
        { key: 'weights_changed_fraction', value: 0 },
        { key: 'weights_kept_fraction', value: 1 },
        { key: 'train_seconds', value: b.trainSeconds },
        ...(b.history.at(-1)?.valAccuracy !== undefined ? [{ key: 'val_accuracy', value: b.history.at(-1)!.valAccuracy! }] : []),
        { key: 'size_float32_bytes', value: b.weightBytes },
        { key: 'artifact_bytes', value: b.weightBytes },
        { key: 'compression_ratio', value: 1 },
        ...curves,
      ],
      artifacts: [{ kind: 'model', path: b.dir, bytes: b.weightBytes }],
    });
  }
  return b;
}

/** Default locations: the database under `results/`, caches beside it. */
export function defaultPaths(db?: string): { db: string; cacheDir: string } {
  const dbPath = resolve(db ?? join('results', 'squash.db'));
  return { db: dbPath, cacheDir: join(dirname(dbPath), 'cache') };
}
