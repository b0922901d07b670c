/**
 * `npm run bench:queue`: what the BullMQ queue costs on this machine. One post-training grid (no
 * training stage, so each trial is short and the overhead shows), its baseline trained and cached
 * first; then whole `squash run` processes, timed: `--jobs 1` and `--jobs 2` locally, and
 * `--queue` with 1, 2 and 4 `squash worker` processes (each in a directory of its own, started and
 * warmed up before the clock starts). Prints seconds per pass, ms per trial, the queue's overhead
 * per trial against `--jobs 1` (goal: < 50 ms), and the throughput of each worker count.
 *
 * Options: --trials N (default 48), --workers 1,2,4, --repeats N (default 3; the median is shown).
 * Needs Debian's redis-server (started here on a free port, stopped at the end). Do not run it beside
 * other work: it measures the machine.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const BIN = join(dirname(fileURLToPath(import.meta.url)), 'bin.js');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const TRIALS = Number(arg('trials', '48'));
const WORKERS = arg('workers', '1,2,4').split(',').map(Number);
const REPEATS = Number(arg('repeats', '3'));

/** `TRIALS` post-training trials: clip thresholds × weight bits, on the seed's MLP over synthetic data. */
const BITS = [2, 3, 4, 5, 6, 8];
const CLIPS = Array.from(
  { length: Math.max(1, Math.ceil(TRIALS / BITS.length)) },
  (_, i) => +(0.05 + 0.05 * i).toFixed(2),
);

function experiment(): string {
  const bits = BITS;
  const clips = CLIPS;
  return `name: bench-queue
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 128, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 2000, test: 1000 } }
train: { epochs: 1 }
sweeps:
  - name: grid
    stages:
      - clip-weights: { threshold: [${clips.join(', ')}] }
      - quantize-weights: { bits: [${bits.join(', ')}] }
`;
}

const env = { ...process.env, SQUASH_BACKEND: process.env.SQUASH_BACKEND ?? 'wasm' };

function squash(dir: string, args: string[]): number {
  const t0 = performance.now();
  execFileSync(process.execPath, [BIN, ...args], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  return (performance.now() - t0) / 1000;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.stdout!.on('data', (d) => {
      log += d;
      if (/Ready to accept connections/.test(log)) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): is it installed? ${log}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, child };
}

/** `n` workers, each in a directory of its own, resolved once each says it is ready. */
async function startWorkers(n: number, url: string, root: string): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const dir = mkdtempSync(join(root, `worker-${i}-`));
      const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--queue-name', 'bench', '--json'], {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return new Promise<ChildProcess>((resolve) => {
        child.stdout!.on('data', (d) => /"ready"/.test(String(d)) && resolve(child));
      });
    }),
  );
}

async function stopWorkers(ws: ChildProcess[]): Promise<void> {
  await Promise.all(
    ws.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.once('exit', () => resolve());
          w.kill('SIGTERM');
        }),
    ),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function timed(dir: string, args: string[]): number {
  return median(Array.from({ length: REPEATS }, () => squash(dir, args)));
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(
    `machine: ${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} cpus, Node ${process.version}; backend ${env.SQUASH_BACKEND}; ` +
      `1-minute load ${loadavg()[0]!.toFixed(2)}`,
  );
  if (loadavg()[0]! > 0.5) console.log('warning: the machine is busy; these numbers are not the idle ones');
  const root = mkdtempSync(join(tmpdir(), 'squash-bench-queue-'));
  const dir = mkdtempSync(join(root, 'recorder-'));
  writeFileSync(join(dir, 'e.yaml'), experiment());
  const redis = await startRedis(root);
  try {
    // The baseline trained and cached, every trial run once: the timed passes below rerun them (--force).
    squash(dir, ['run', 'e.yaml', '--quiet']);
    const trials = CLIPS.length * BITS.length;
    const rows: Array<[string, number]> = [];
    for (const jobs of [1, 2])
      rows.push([`--jobs ${jobs}`, timed(dir, ['run', 'e.yaml', '--quiet', '--force', '--jobs', String(jobs)])]);
    const queued = ['run', 'e.yaml', '--quiet', '--force', '--queue', redis.url, '--queue-name', 'bench'];
    for (const n of WORKERS) {
      const ws = await startWorkers(n, redis.url, root);
      try {
        squash(dir, queued); // warm-up: each worker's sandboxed processes load TensorFlow.js and the data once
        rows.push([`--queue, ${n} worker${n > 1 ? 's' : ''}`, timed(dir, queued)]);
      } finally {
        await stopWorkers(ws);
      }
    }
    const local = rows[0]![1];
    console.log(`\n${trials} post-training trials per pass; whole squash run processes, median of ${REPEATS}\n`);
    console.log('pass                      s/pass   ms/trial   trials/s   overhead vs --jobs 1 (ms/trial)');
    for (const [name, s] of rows) {
      const overhead = name.startsWith('--queue') ? `${(((s - local) / trials) * 1000).toFixed(1)}` : '';
      console.log(
        `${name.padEnd(24)}  ${s.toFixed(2).padStart(6)}   ${((s / trials) * 1000).toFixed(1).padStart(8)}   ${(trials / s).toFixed(2).padStart(8)}   ${overhead}`,
      );
    }
  } finally {
    redis.child.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
