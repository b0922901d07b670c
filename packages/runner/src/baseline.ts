import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { sha256Hex, writeFileAtomic } from '@squash/core';
import { batchAugmenter, type Dataset } from '@squash/datasets';
import {
  buildModel,
  evaluate,
  loadModel,
  modelExists,
  resolveModelSpec,
  saveModel,
  setWeights,
  train,
  type EpochLog,
  type TrainOptions,
} from '@squash/trainer';
import { sourceWeights } from './model_source.js';
import { epochsSpanned, optimizerFieldsOf, trainingSamples } from './train_settings.js';
import { type LockHolder, type LockOptions, tryLock } from './cache_lock.js';
import type { BaselineConfig } from './spec/types.js';

export interface Baseline {
  id: string;
  model: tf.LayersModel;
  accuracy: number;
  loss: number;
  history: EpochLog[];
  trainSeconds: number;
  /** True when the trained model came from the cache instead of being trained now. */
  cacheHit: boolean;
  /** Backend the model was trained on (may differ from the current one on a cache hit). */
  trainedOn: string;
  /** The cached tfjs model directory (`model.json` + `weights.bin`). */
  dir: string;
  /** Bytes of `weights.bin`: the float32 model as tfjs stores it. */
  weightBytes: number;
}

/** What the cache says it holds: written last, so an entry without it is incomplete. */
interface BaselineInfo {
  config: BaselineConfig;
  history: EpochLog[];
  trainSeconds: number;
  backend: string;
  /** Size and sha256 of each model file as saved (absent in entries older than this check). */
  files?: Record<string, { bytes: number; sha256: string }>;
}

const MODEL_FILES = ['model.json', 'weights.bin'];
const INFO_FILE = 'baseline.json';

export interface ObtainOptions {
  cacheDir: string;
  /** The backend this process trains on, recorded with a newly trained model. */
  backend: string;
  /** Training starts here (a cache miss, this process holding the entry's lock). */
  onTrainStart?: () => void;
  onEpoch?: (e: EpochLog) => void;
  /** Awaited between training steps and while waiting for another process; throws when the run is being stopped. */
  checkStop?: TrainOptions['checkStop'];
  /** Another process holds the lock: this one waits for its model (called once per holder). */
  onWait?: (holder: LockHolder | undefined) => void;
  /** A damaged cache entry is retrained: what was wrong with it. */
  onDamaged?: (problem: string) => void;
  /** Poll interval while another process trains (default 1 s). */
  pollMs?: number;
  lock?: LockOptions;
}

const sha256 = (path: string) => sha256Hex(readFileSync(path));

/**
 * Whether a cache entry holds what its info file says: absent (never completed), damaged (with
 * what is wrong), or sound. Entries written before sizes and hashes were recorded are sound when
 * their info parses; loading them is the remaining check.
 */
export function checkCachedBaseline(
  dir: string,
): { state: 'absent' } | { state: 'damaged'; problem: string } | { state: 'ok'; info: BaselineInfo } {
  const infoFile = join(dir, INFO_FILE);
  if (!existsSync(infoFile) || !modelExists(dir)) return { state: 'absent' };
  let info: BaselineInfo;
  try {
    info = JSON.parse(readFileSync(infoFile, 'utf8')) as BaselineInfo;
    if (!Array.isArray(info.history) || typeof info.backend !== 'string') throw new Error('missing fields');
  } catch (e) {
    return { state: 'damaged', problem: `${INFO_FILE} is unreadable (${(e as Error).message})` };
  }
  try {
    for (const [name, want] of Object.entries(info.files ?? {})) {
      const path = join(dir, name);
      const bytes = statSync(path).size;
      if (bytes !== want.bytes)
        return { state: 'damaged', problem: `${name} is ${bytes} bytes, saved as ${want.bytes}` };
      if (sha256(path) !== want.sha256) return { state: 'damaged', problem: `${name} differs from the model saved` };
    }
  } catch {
    return { state: 'absent' }; // removed meanwhile: a process holding the lock is replacing it
  }
  return { state: 'ok', info };
}

/** The cached baseline, or why the entry cannot be used (undefined: there is none). */
async function loadCached(
  id: string,
  dir: string,
  data: Dataset,
): Promise<{ baseline: Baseline } | { problem: string } | undefined> {
  const check = checkCachedBaseline(dir);
  if (check.state === 'absent') return undefined;
  if (check.state === 'damaged') return { problem: check.problem };
  let model: tf.LayersModel | undefined;
  let ev: ReturnType<typeof evaluate>;
  try {
    model = await loadModel(dir);
    ev = evaluate(model, data.test);
  } catch (e) {
    model?.dispose();
    return { problem: `TensorFlow.js cannot load it (${(e as Error).message})` };
  }
  return {
    baseline: {
      id,
      model,
      accuracy: ev.accuracy,
      loss: ev.loss,
      history: check.info.history,
      trainSeconds: check.info.trainSeconds,
      cacheHit: true,
      trainedOn: check.info.backend,
      dir,
      weightBytes: statSync(join(dir, 'weights.bin')).size,
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The trained baseline for a config: from `<cacheDir>/baselines/<id>/` when present, else trained
 * and saved there. Content-addressed by the config hash, so every experiment that trains the same
 * model on the same data with the same settings and seed shares one; the entry's lock file
 * (`<id>.lock`) makes processes of any experiment wait for the one training it instead of training
 * it again. A damaged entry (its files differ from what was saved, or tfjs cannot load it) is
 * retrained under the lock and replaced.
 */
export async function obtainBaseline(
  id: string,
  config: BaselineConfig,
  data: Dataset,
  opts: ObtainOptions,
): Promise<Baseline> {
  const root = join(opts.cacheDir, 'baselines');
  const dir = join(root, id);
  mkdirSync(root, { recursive: true });
  let waitingFor: string | undefined;
  for (;;) {
    const cached = await loadCached(id, dir, data);
    if (cached && 'baseline' in cached) return cached.baseline;
    const lock = tryLock(`${dir}.lock`, opts.lock);
    if ('heldBy' in lock) {
      const who = lock.heldBy ? `${lock.heldBy.host}:${lock.heldBy.pid}` : '?';
      if (who !== waitingFor) opts.onWait?.(lock.heldBy);
      waitingFor = who;
      await opts.checkStop?.();
      await sleep(opts.pollMs ?? 1000);
      continue;
    }
    try {
      // Another process may have completed (or replaced) the entry between the check and the lock.
      const again = await loadCached(id, dir, data);
      if (again && 'baseline' in again) return again.baseline;
      if (again) opts.onDamaged?.(again.problem);
      rmSync(dir, { recursive: true, force: true });
      return await trainAndSave(id, config, data, dir, opts);
    } finally {
      lock.release();
    }
  }
}

async function trainAndSave(
  id: string,
  config: BaselineConfig,
  data: Dataset,
  dir: string,
  opts: ObtainOptions,
): Promise<Baseline> {
  opts.onTrainStart?.();
  const spec = resolveModelSpec(config.model);
  const model = buildModel(spec, data.inputShape, config.seed, config.train.init);
  // A file model starts from its own weights: with no epochs, it is the baseline as it is.
  if (spec.source && spec.source.init !== 'random') setWeights(model, sourceWeights(spec.source));
  const t0 = performance.now();
  const t = config.train;
  const history = await train(model, data.train, {
    epochs: epochsSpanned(t, trainingSamples(data.train.count, t.validationSplit)),
    ...(t.iterations !== undefined ? { iterations: t.iterations } : {}),
    batchSize: t.batchSize,
    learningRate: t.learningRate,
    validationSplit: t.validationSplit,
    optimizer: optimizerFieldsOf(t),
    seed: config.seed,
    augment: batchAugmenter(config.dataset.augment, data.inputShape, data.normalization),
    onEpoch: opts.onEpoch,
    checkStop: opts.checkStop,
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  await saveModel(model, dir);
  const files = Object.fromEntries(
    MODEL_FILES.map((f) => [f, { bytes: statSync(join(dir, f)).size, sha256: sha256(join(dir, f)) }]),
  );
  const info: BaselineInfo = { config, history, trainSeconds, backend: opts.backend, files };
  // Written after the model and renamed into place, so an entry with an info file is complete.
  writeFileAtomic(join(dir, INFO_FILE), JSON.stringify(info, null, 2), 'caching the trained baseline');
  const ev = evaluate(model, data.test);
  return {
    id,
    model,
    accuracy: ev.accuracy,
    loss: ev.loss,
    history,
    trainSeconds,
    cacheHit: false,
    trainedOn: opts.backend,
    dir,
    weightBytes: files['weights.bin']!.bytes,
  };
}
