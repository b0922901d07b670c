import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { backendPreference, selectBackend } from '@squash/backend';
import type { RunView } from '@squash/contract';
import { ConfigError, FileError, fileError } from '@squash/core';
import { type DatasetSpec, datasetFingerprint, loadDataset, type Split } from '@squash/datasets';
import { decodeSqz } from '@squash/sqz';
import { defaultPaths } from '@squash/store';
import {
  loadTfjsFiles,
  modelFromArtifact,
  predictAccuracy,
  type TfjsFormat,
  tfjsModelFiles,
  type TfjsTensor,
} from '@squash/trainer';
import { decoderBundle } from '../decoder_bundle.js';
import { checkOutDir, readRunArtifact, type RunArtifact, writeDirAtomic } from '../export_checks.js';
import { type ExportSummary, exportSummary } from '../export_summary.js';
import type { IO } from '../io.js';
import type { ExportFormat } from '../options.js';
import { withReadStore } from '../read_store.js';
import { type ResolvedRun, resolveRun } from '../resolve_run.js';

export interface ExportOptions {
  format: ExportFormat;
  out: string;
  db?: string;
}

/** What a format's writer hands the summary: the files, how each tensor came out, what they score. */
type Written = Pick<ExportSummary, 'files' | 'tensors' | 'correct' | 'measuredBy' | 'activations'>;

/** A run with a model to export: a FINISHED trial run (a trial id: its latest FINISHED run). */
function checkExportable({ run, trial }: ResolvedRun): void {
  if (run.isBaseline)
    throw new ConfigError(
      `run ${run.id} is a baseline: its trained model is already TensorFlow.js files (model.json + weights.bin) in ${run.artifacts.model?.path ?? 'the cache'}`,
      { hint: 'export a trial run or trial id' },
    );
  if (run.status === 'FINISHED') return;
  const hint = `squash show ${run.id.slice(0, 12)} shows ${run.error ? 'its error' : 'it'}`;
  if (trial)
    throw new ConfigError(`trial ${trial.id} has no FINISHED run: its latest run, ${run.id}, is ${run.status}`, {
      hint,
    });
  throw new ConfigError(`run ${run.id} is ${run.status}, not FINISHED: it wrote no model to export`, { hint });
}

/** The dataset the run evaluated on, as it recorded it: its test split measures the export. */
async function runTestSplit(run: RunView, config: unknown, experimentFile: string | null): Promise<Split> {
  const spec = (config as { baseline?: { dataset?: DatasetSpec } } | null)?.baseline?.dataset;
  if (!spec)
    throw new ConfigError(`run ${run.id} recorded no dataset, so its export cannot be measured`, {
      hint: 'export a run written by squash run',
    });
  // Paths in the experiment file are relative to it, as when the run read them.
  const baseDir = experimentFile ? dirname(resolve(experimentFile)) : process.cwd();
  const where = experimentFile ? ` (paths relative to ${experimentFile}, as given to squash run)` : '';
  const cannotLoad = (e: unknown) => {
    if (!(e instanceof ConfigError)) return e;
    return new ConfigError(`cannot load the dataset run ${run.id} used${where}: ${e.describe()}`, {
      hint: 'run squash export from the directory squash run ran in',
    });
  };
  let now: ReturnType<typeof datasetFingerprint>;
  try {
    now = spec.content ? datasetFingerprint(spec, baseDir) : undefined;
  } catch (e) {
    throw cannotLoad(e);
  }
  if (now && spec.content && now.sha256 !== spec.content.sha256)
    throw new ConfigError(
      `dataset ${spec.path} changed since run ${run.id} read it (content ${now.sha256.slice(0, 12)}, recorded ${spec.content.sha256.slice(0, 12)}): its accuracy would not compare`,
    );
  try {
    return (await loadDataset(spec, { baseDir })).test;
  } catch (e) {
    throw cannotLoad(e);
  }
}

/** The backend the run measured on (SQUASH_BACKEND overrides it), else the best available. */
async function measuringBackend(run: RunView): Promise<string> {
  const recorded = ['tensorflow', 'native', 'wasm', 'cpu'].includes(run.backend ?? '') ? run.backend! : 'auto';
  const prefer = process.env.SQUASH_BACKEND ? backendPreference() : (recorded as 'auto');
  try {
    return (await selectBackend({ prefer })).name;
  } catch {
    return (await selectBackend({ prefer: 'auto' })).name;
  }
}

async function exportTfjs(
  model: ReturnType<typeof modelFromArtifact>,
  format: TfjsFormat,
  test: Split,
): Promise<Written> {
  const { files, tensors } = await tfjsModelFiles(model.model, format);
  // Measured as a page would: the written files loaded by stock TensorFlow.js.
  const loaded = await loadTfjsFiles(files);
  const correct = Math.round(predictAccuracy(loaded, test) * test.count);
  loaded.dispose();
  const acts = Object.entries(model.info.activations ?? {});
  return {
    files,
    tensors,
    correct,
    measuredBy: 'the written files loaded by stock tf.loadLayersModel, model.predict',
    activations: acts.length
      ? `DROPPED — stock TensorFlow.js has no layer for it, so these files compute without it (${acts.map(([l, a]) => `${l}: ${a.bits} bits`).join(', ')}); the accuracy below is what they score`
      : 'none in this trial',
  };
}

async function exportSqz(
  model: ReturnType<typeof modelFromArtifact>,
  artifact: RunArtifact,
  test: Split,
): Promise<Written> {
  const bundle = decoderBundle();
  if (!bundle)
    throw new FileError(
      'the @squash/sqz decoder bundle (sqz.min.js, with bundle.json) is not installed: a .sqz without it cannot be read in a page',
      'ENOENT',
      { hint: 'build packages/sqz with pnpm build, or reinstall squash' },
    );
  let decoder: Uint8Array;
  try {
    decoder = new Uint8Array(readFileSync(bundle.file));
  } catch (e) {
    throw fileError(e, bundle.file, 'reading the decoder bundle');
  }
  // Measured as a page would: the bytes decoded by @squash/sqz into a stock LayersModel.
  const decoded = decodeSqz(artifact.bytes);
  const correct = Math.round(predictAccuracy(decoded.model, test) * test.count);
  decoded.model.dispose();
  const tensors = model.model.weights.map(
    (w): TfjsTensor => ({
      name: w.originalName,
      shape: w.shape as number[],
      dtype: 'float32',
      exact: true,
      maxAbsError: 0,
    }),
  );
  const acts = Object.keys(model.info.activations ?? {}).length;
  return {
    files: [
      { name: 'model.sqz', bytes: artifact.bytes },
      { name: 'sqz.min.js', bytes: decoder },
    ],
    tensors,
    correct,
    measuredBy: 'the .sqz decoded by @squash/sqz decodeSqz, model.predict',
    activations: acts ? `kept (in the .sqz, applied by @squash/sqz on ${acts} layers)` : 'none in this trial',
  };
}

/**
 * `squash export <run id | trial id> --format <f> --out <dir>`: the trial's compressed model as
 * stock TensorFlow.js files (float32 or tfjs' quantized dtypes) or as its `.sqz` with the decoder,
 * measured on the run's test split before anything is written, and written whole or not at all.
 */
export async function exportRun(id: string, opts: ExportOptions, io: IO): Promise<number> {
  const out = resolve(opts.out);
  checkOutDir(out);
  const { resolved, config } = withReadStore(opts.db, (store) => {
    const r = resolveRun(store, id);
    checkExportable(r);
    return { resolved: r, config: store.runConfig(r.run.id) };
  });
  const { run, trial } = resolved;
  const artifact = readRunArtifact(run, defaultPaths(opts.db).db);
  const backend = await measuringBackend(run);
  let model: ReturnType<typeof modelFromArtifact>;
  try {
    model = modelFromArtifact(artifact.bytes);
  } catch (e) {
    throw new ConfigError(`the artifact of run ${run.id} does not read as a Squash model: ${(e as Error).message}`, {
      location: { file: artifact.path },
      hint: 'restore the file, or run the trial again to write it anew (squash run <experiment.yaml> --force)',
    });
  }
  try {
    const test = await runTestSplit(run, config.config, config.experimentFile);
    const written =
      opts.format === 'sqz' ? await exportSqz(model, artifact, test) : await exportTfjs(model, opts.format, test);
    writeDirAtomic(out, written.files);
    io.out(
      exportSummary({
        ...written,
        run,
        trialNote: trial?.note,
        format: opts.format,
        out,
        artifact,
        backend,
        count: test.count,
      }),
    );
  } finally {
    model.model.dispose();
  }
  return 0;
}
