import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ConfigError, DatasetError, SQUASH_VERSION, type ParamValue } from '@squash/core';
import {
  batchAugmenter,
  canonicalAugment,
  canonicalNormalize,
  datasetFingerprint,
  loadDataset,
  type Dataset,
  type DatasetSpec,
  type Split,
} from '@squash/datasets';
import { experimentBaseDir } from '../spec/dataset_files.js';
import { planLayers, resolveModelSpec, trainingPathOf, type ModelSpec } from '@squash/trainer/specs';
import type { Experiment, Trial } from '../spec/types.js';
import type { RunStore, WorkerIdentity } from '@squash/store';
import type { Emit } from './events.js';
import { trainParams } from '../train_settings.js';
import type { StopRequest } from './stop.js';

/** Hidden-activation ranges are calibrated on this many training samples (never test data). */
export const CALIBRATION_SAMPLES = 1000;

export function workerIdentity(backend: string, invocation: string = randomUUID()): WorkerIdentity {
  return { host: hostname(), pid: process.pid, invocation, version: SQUASH_VERSION, backend };
}

/**
 * The experiment's data, loaded and checked (the dataset's own checks: files, magic, counts), and
 * checked against every model the experiment trains: all of it can fail on input, so the runner
 * does it before it writes anything.
 */
export async function loadExperimentData(exp: Experiment): Promise<Dataset> {
  const baseDir = experimentBaseDir(exp.file);
  const data = await located(exp.file, () => loadDataset(exp.dataset, { baseDir }));
  checkUnchanged(exp, baseDir);
  checkModelFits(resolveModelSpec(exp.model), 'model', data, exp.file);
  for (const [name, spec] of Object.entries(exp.models)) checkModelFits(spec, `models.${name}`, data, exp.file);
  // Refuses data that is not an image before anything is written, not at the first training step.
  await located(exp.file, async () => batchAugmenter(exp.dataset.augment, data.inputShape, data.normalization));
  return data;
}

/** A dataset error located in the experiment file (its `dataset.…` path), as every other input error. */
async function located<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DatasetError && file && !e.location?.file && e.location?.path)
      throw new DatasetError(e.message, { location: { file, path: e.location.path }, hint: e.hint });
    throw e;
  }
}

/**
 * The files read are the files the experiment was planned with: edited since, they would give
 * numbers that belong to another id. Each file is hashed once per process (remembered by size and
 * mtime), so this costs a stat per file where parsing hashed them.
 */
function checkUnchanged(exp: Experiment, baseDir: string): void {
  const planned = exp.dataset.content;
  if (!planned) return;
  const now = datasetFingerprint(exp.dataset, baseDir);
  if (now && now.sha256 !== planned.sha256)
    throw new ConfigError(
      `dataset ${exp.dataset.path} changed since the experiment was read (content ${now.sha256.slice(0, 12)}, planned ${planned.sha256.slice(0, 12)})`,
      {
        location: { file: exp.file, path: 'dataset.path' },
        hint: 'run the experiment again: its ids follow the new content',
      },
    );
}

/** A model fits a dataset when its layers take the inputs' shape and it outputs a value per class. */
function checkModelFits(spec: ModelSpec, path: string, data: Dataset, file: string | undefined): void {
  let out: number[];
  try {
    out = planLayers(spec, data.inputShape).at(-1)?.outShape ?? data.inputShape;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const at = e.location?.path?.replace(/^model/, path) ?? path;
    throw new ConfigError(`${e.message} (on ${data.name}'s [${data.inputShape.join(', ')}] inputs)`, {
      location: { file, path: at },
      hint: e.hint,
    });
  }
  // More outputs than classes only leaves some unused; fewer cannot classify.
  if (out.length === 1 && out[0]! >= data.numClasses) return;
  throw new ConfigError(
    `model '${spec.name}' outputs [${out.join(', ')}] per sample on ${data.name}'s [${data.inputShape.join(', ')}] inputs; a classifier of its ${data.numClasses} classes needs ${data.numClasses} outputs`,
    {
      location: { file, path },
      hint:
        out.length > 1
          ? 'add a flatten layer before the first dense layer'
          : `give the last layer ${data.numClasses} units`,
    },
  );
}

export function head(split: Split, n: number): Split {
  const count = Math.min(n, split.count);
  const per = split.x.length / split.count;
  return { x: split.x.subarray(0, count * per), y: split.y.subarray(0, count), count };
}

/** `crop=4,flip,shift=2`; `mean=per-channel,std=0.5`: preprocessing as one queryable param. */
const spelled = (o: Record<string, unknown> | undefined): string | undefined =>
  o &&
  Object.entries(o)
    .map(([k, v]) => (v === true ? k : `${k}=${typeof v === 'object' && v ? Object.values(v).join(',') : v}`))
    .join(',');

/** Numbers recorded as text, six significant digits: `0.491400,0.482200,0.446500` → `0.4914,0.4822,0.4465`. */
const numbers = (xs: number[]) => xs.map((x) => Number(x.toPrecision(6))).join(',');

/**
 * The dataset's params: its kind (`dataset`, as always), where it was read (`dataset.path`, as
 * written), its content hash (`dataset.sha256`, what ids hash), the preprocessing asked for and,
 * with the data, the normalization statistics computed from the training split.
 */
export function datasetParams(spec: DatasetSpec, data?: Pick<Dataset, 'normalization'>): Record<string, ParamValue> {
  const normalize = canonicalNormalize(spec.normalize);
  const augment = canonicalAugment(spec.augment);
  const n = data?.normalization;
  const out: Record<string, ParamValue | undefined> = {
    dataset: spec.name,
    'dataset.path': spec.path,
    'dataset.sha256': spec.content?.sha256,
    'dataset.normalize': spelled(normalize as Record<string, unknown> | undefined),
    'dataset.normalize.mean': normalize && n ? numbers(n.mean) : undefined,
    'dataset.normalize.std': normalize && n ? numbers(n.std) : undefined,
    'dataset.augment': spelled(augment as Record<string, unknown> | undefined),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as Record<string, ParamValue>;
}

/**
 * The params every run records: the baseline's settings (its training: `trainParams`) and each
 * stage's values (`data`: the normalization computed).
 */
export function trialParams(trial: Trial, data?: Pick<Dataset, 'normalization'>): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = {
    model: typeof trial.baseline.model === 'string' ? trial.baseline.model : trial.baseline.model.name,
    ...(typeof trial.baseline.model === 'object' && trial.baseline.model.source
      ? { model_file: trial.baseline.model.source.path, model_sha256: trial.baseline.model.source.sha256 }
      : {}),
    ...datasetParams(trial.baseline.dataset, data),
    seed: trial.baseline.seed,
    ...trainParams(trial.baseline.train),
  };
  for (const s of trial.stages) {
    for (const [k, v] of Object.entries(s.params)) params[`${s.compressor}.${k}`] = v;
    if (s.layer) params[`${s.compressor}.layer`] = s.layer;
  }
  params.stages = trial.stages.map((s) => s.compressor).join('+');
  return params;
}

/** `training_path`: the engine that trained a run (see trainingPathOf), when it trained at all. */
export function withTrainingPath(logs: Parameters<typeof trainingPathOf>[0]): Record<string, ParamValue> {
  const path = trainingPathOf(logs);
  return path ? { training_path: path } : {};
}

/** Keeps this process's RUNNING runs visibly alive while it works on them. */
export function startHeartbeat(
  beat: (ids: string[]) => void,
  intervalMs = 5000,
): { add(id: string): void; remove(id: string): void; stop(): void; ids(): string[] } {
  const running = new Set<string>();
  const timer = setInterval(() => {
    // A missed beat is harmless (the run is stale only after a minute of them); a full disk or a
    // locked database shows up, with its message, at the next write the work itself does.
    try {
      beat([...running]);
    } catch {}
  }, intervalMs);
  timer.unref();
  return {
    add: (id) => void running.add(id),
    remove: (id) => void running.delete(id),
    stop: () => clearInterval(timer),
    ids: () => [...running],
  };
}

/** What every working process holds: its store, identity, heartbeat, the experiment's data and its stop request. */
export interface ProcessEnv {
  store: RunStore;
  experimentId: number;
  sweepId: number;
  identity: WorkerIdentity;
  heartbeat: ReturnType<typeof startHeartbeat>;
  data: Dataset;
  emit: Emit;
  stop: StopRequest;
}
