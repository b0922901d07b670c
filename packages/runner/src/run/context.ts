import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { ConfigError, SQUASH_VERSION, type ParamValue } from '@squash/core';
import { loadDataset, type Dataset, type Split } from '@squash/datasets';
import { planLayers, resolveModelSpec, type ModelSpec } from '@squash/trainer/specs';
import type { Experiment, Trial } from '../spec/types.js';
import type { RunStore, WorkerIdentity } from '@squash/store';
import type { Emit } from './events.js';
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
  const data = await loadDataset(exp.dataset, { baseDir: exp.file ? dirname(resolve(exp.file)) : process.cwd() });
  checkModelFits(resolveModelSpec(exp.model), 'model', data, exp.file);
  for (const [name, spec] of Object.entries(exp.models)) checkModelFits(spec, `models.${name}`, data, exp.file);
  return data;
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

/** The params every run records: the baseline's settings and each stage's values. */
export function trialParams(trial: Trial): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = {
    model: typeof trial.baseline.model === 'string' ? trial.baseline.model : trial.baseline.model.name,
    ...(typeof trial.baseline.model === 'object' && trial.baseline.model.source
      ? { model_file: trial.baseline.model.source.path, model_sha256: trial.baseline.model.source.sha256 }
      : {}),
    dataset: trial.baseline.dataset.name,
    seed: trial.baseline.seed,
    epochs: trial.baseline.train.epochs,
    batch_size: trial.baseline.train.batchSize,
    learning_rate: trial.baseline.train.learningRate,
  };
  for (const s of trial.stages) {
    for (const [k, v] of Object.entries(s.params)) params[`${s.compressor}.${k}`] = v;
    if (s.layer) params[`${s.compressor}.layer`] = s.layer;
  }
  params.stages = trial.stages.map((s) => s.compressor).join('+');
  return params;
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
