import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import {
  BIN,
  ENV,
  expectEachTrialFinishedOnce,
  killAllIn,
  processesIn,
  type RunRow,
  runsOf,
  STACK,
  type Started,
  start,
  startRun,
  waitFor,
  workspace,
} from './__tests__/processes.js';

// Six trials of about half a second each: a signal lands while trials run (with --jobs 2, once the
// worker is up), and a resume has work left.
const EXPERIMENT = `name: faults
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 16, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 600, test: 200 } }
train: { epochs: 2 }
sweeps:
  - name: grid
    stages:
      - prune-weights: { retention: [0.9, 0.8, 0.6, 0.4, 0.3, 0.2] }
      - finetune: { epochs: 20 }
`;
const TRIALS = 6;

const trialRuns = (dir: string) => runsOf(dir).filter((r) => !r.is_baseline);

/** Every process of the run is inside a trial (and, with one process, one trial is already done). */
function midSweep(dir: string, jobs: number): boolean {
  const runs = trialRuns(dir);
  const working = new Set(runs.filter((r) => r.status === 'RUNNING').map((r) => r.pid));
  return working.size === jobs && (jobs > 1 || runs.some((r) => r.status === 'FINISHED'));
}

/**
 * `squash run` again, to the end: it must finish what the interrupted run left, each trial once.
 * (Not spawnSync: that would stop the other case running concurrently from watching its process.)
 */
async function resume(dir: string, jobs: number): Promise<RunRow[]> {
  const { status, stderr } = await startRun(dir, ['--jobs', String(jobs)]).exited;
  expect(stderr).not.toMatch(STACK);
  expect(status).toBe(0);
  return expectEachTrialFinishedOnce(dir, TRIALS);
}

/**
 * A fresh workspace; whatever a failing test leaves running there is killed when it ends (through
 * its own context: the cases run concurrently).
 */
function sweepIn(ctx: TestContext): string {
  const dir = workspace(EXPERIMENT);
  ctx.onTestFinished(() => killAllIn(dir));
  return dir;
}

type Target = 'parent' | 'group' | 'worker';
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGKILL'] as const;
const CASES = [
  ...(['parent', 'group'] as const).flatMap((target) => SIGNALS.map((signal) => ({ jobs: 1, target, signal }))),
  ...(['parent', 'group', 'worker'] as const).flatMap((target) =>
    SIGNALS.map((signal) => ({ jobs: 2, target, signal })),
  ),
] satisfies Array<{ jobs: number; target: Target; signal: NodeJS.Signals }>;

describe.concurrent('signals: the documented exit code, no orphan, nothing left RUNNING, a clean resume', () => {
  it.for(CASES)('--jobs $jobs: $signal to the $target', async ({ jobs, target, signal }, ctx) => {
    const dir = sweepIn(ctx);
    const run = startRun(dir, ['--jobs', String(jobs)]);
    await waitFor('every process inside a trial', () => midSweep(dir, jobs), undefined, run);
    const running = trialRuns(dir).filter((r) => r.status === 'RUNNING');
    const sentAt = Date.now();
    const worker = running.find((r) => r.pid !== run.pid)?.pid;
    process.kill({ parent: run.pid, group: -run.pid, worker: worker! }[target], signal);
    const { status, stderr } = await run.exited;

    expect(status).toBe(128 + constants.signals[signal]);
    expect(stderr).not.toMatch(STACK);
    if (signal === 'SIGKILL' && target !== 'worker') {
      // Nobody could clean up after the parent: its workers notice that it is gone and stop.
      await waitFor('the workers of a killed parent to stop', () => processesIn(dir).length === 0, 15_000);
    } else {
      // The parent waited for its workers before it exited.
      expect(processesIn(dir)).toEqual([]);
      expectStopped(dir, running, signal);
    }
    expectNothingFinishedAfter(dir, sentAt);
    // Only a SIGKILLed parent leaves runs RUNNING: the resume finds their process dead and marks them KILLED.
    const left = runsOf(dir).filter((r) => r.status === 'RUNNING');
    const runs = await resume(dir, jobs);
    for (const r of left) expect(runs.find((x) => x.id === r.id)?.status).toBe('KILLED');
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.for([1, 2])('--jobs %i: Ctrl-C on a terminal (a pseudo-terminal from script)', async (jobs, ctx) => {
    if (!hasScript) {
      console.warn('skipped: util-linux `script` (a pseudo-terminal) is not installed');
      return;
    }
    const dir = sweepIn(ctx);
    const command = `exec '${process.execPath}' '${BIN}' run e.yaml --jobs ${jobs}`;
    const term: Started = start(dir, 'script', ['-qfec', command, '/dev/null'], { stdin: true });
    await waitFor('every process inside a trial', () => midSweep(dir, jobs), undefined, term);
    const running = trialRuns(dir).filter((r) => r.status === 'RUNNING');
    const sentAt = Date.now();
    term.child.stdin!.write('\x03');
    const { status, stdout } = await term.exited;

    expect(status).toBe(130);
    expect(stdout).toMatch(/interrupted by SIGINT; the trials in progress are marked KILLED/);
    expect(stdout).not.toMatch(STACK);
    expect(processesIn(dir)).toEqual([]);
    expectStopped(dir, running, 'SIGINT');
    expectNothingFinishedAfter(dir, sentAt);
    await resume(dir, jobs);
  });
});

/**
 * Nothing is left RUNNING; the trials that were running ended KILLED with the signal in their error
 * (or had just finished when it came).
 */
function expectStopped(dir: string, running: RunRow[], signal: NodeJS.Signals): void {
  const runs = runsOf(dir);
  expect(runs.filter((r) => r.status === 'RUNNING')).toEqual([]);
  for (const r of running) expect(['KILLED', 'FINISHED']).toContain(runs.find((x) => x.id === r.id)?.status);
  for (const r of runs.filter((x) => x.status === 'KILLED')) expect(r.error).toContain(signal);
}

/** No process went on with trials after the stop: whatever started later did not finish. */
function expectNothingFinishedAfter(dir: string, sentAt: number): void {
  const later = runsOf(dir).filter((r) => Date.parse(r.started_at) > sentAt);
  expect(later.filter((r) => r.status === 'FINISHED')).toEqual([]);
}

describe('a closed output (| head) ends the process quietly', () => {
  it('squash --help into a closed pipe: exit 141, no stack', async () => {
    const help = start(process.cwd(), process.execPath, [BIN, '--help']);
    help.child.stdout!.destroy(); // the reader is gone before squash writes
    const { status, stderr } = await help.exited;
    expect(status).toBe(141);
    expect(stderr).toBe('');
  });

  it('squash run --json --jobs 2 into a pipe closed mid-run: stops like a signal, resumes cleanly', async (ctx) => {
    const dir = sweepIn(ctx);
    const run = start(dir, process.execPath, [BIN, 'run', 'e.yaml', '--json', '--jobs', '2']);
    await waitFor('every process inside a trial', () => midSweep(dir, 2), undefined, run);
    run.child.stdout!.destroy();
    const { status, stderr } = await run.exited;
    expect(status).toBe(141);
    expect(stderr).toMatch(/the output was closed; the trials in progress are marked KILLED/);
    expect(stderr).not.toMatch(STACK);
    expect(processesIn(dir)).toEqual([]);
    expect(runsOf(dir).filter((r) => r.status === 'RUNNING')).toEqual([]);
    await resume(dir, 2);
  });
});

/** IDX bytes: 00 00 type ndims, big-endian dims, then the body. */
function idx(dims: number[], body: number[]): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(body)]);
}

const images = (n: number) =>
  idx(
    [n, 4, 4],
    Array.from({ length: n * 16 }, (_, i) => i % 256),
  );
const labels = (n: number) =>
  idx(
    [n],
    Array.from({ length: n }, (_, i) => i % 3),
  );
const IDX_FILES = {
  'train-images-idx3-ubyte': images(8),
  'train-labels-idx1-ubyte': labels(8),
  't10k-images-idx3-ubyte': images(4),
  't10k-labels-idx1-ubyte': labels(4),
};

describe('nothing is written before the whole input, data included, has been checked', () => {
  const idxExperiment = (units: number) => `name: broken
model: { name: m, layers: [{ type: flatten }, { type: dense, units: ${units}, activation: softmax }] }
dataset: { name: idx, path: data }
train: { epochs: 1 }
sweeps:
  - name: grid
    stages:
      - prune-weights: { retention: [0.5] }
`;
  const BROKEN: Array<{ name: string; files: Record<string, Buffer> | undefined; units?: number; message: RegExp }> = [
    { name: 'a missing directory', files: undefined, message: /dataset directory not found: .*data/ },
    {
      name: 'a file with a bad magic number',
      files: { ...IDX_FILES, 'train-images-idx3-ubyte': Buffer.from('not an idx file at all') },
      message: /train-images-idx3-ubyte/,
    },
    {
      name: 'mismatched image and label counts',
      files: { ...IDX_FILES, 'train-labels-idx1-ubyte': labels(7) },
      message: /train-images-idx3-ubyte has 8 images but train-labels-idx1-ubyte has 7 labels/,
    },
    {
      name: 'a model that does not fit the data',
      files: IDX_FILES,
      units: 2,
      message: /model 'm' outputs \[2\] .* a classifier of its 3 classes needs 3 outputs/,
    },
  ];
  it.each(BROKEN)('$name: exit 2, a message naming it, no database', ({ files, units, message }) => {
    const dir = workspace(idxExperiment(units ?? 3));
    if (files) {
      mkdirSync(join(dir, 'data'));
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, 'data', name), bytes);
    }
    const r = spawnSync(process.execPath, [BIN, 'run', 'e.yaml'], { cwd: dir, env: ENV, encoding: 'utf8' });
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.status).toBe(2);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it('the same input, fixed, runs (the cases above fail on what they break, not on the rest)', () => {
    const dir = workspace(idxExperiment(3));
    mkdirSync(join(dir, 'data'));
    for (const [name, bytes] of Object.entries(IDX_FILES)) writeFileSync(join(dir, 'data', name), bytes);
    const r = spawnSync(process.execPath, [BIN, 'run', 'e.yaml', '--quiet'], { cwd: dir, env: ENV, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
