import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const ENV = { ...process.env, SQUASH_BACKEND: 'wasm' };

// Eight trials that each fine-tune briefly, so a kill lands in the middle of the sweep.
const EXPERIMENT = `name: crashy
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 16, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 600, test: 200 } }
train: { epochs: 3 }
sweeps:
  - name: grid
    stages:
      - prune-weights: { retention: [0.9, 0.7, 0.5, 0.3] }
      - quantize-weights: { bits: [8, 4] }
      - finetune: { epochs: 2 }
`;
const TRIALS = 8;

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'squash-crash-'));
  writeFileSync(join(dir, 'e.yaml'), EXPERIMENT);
  return dir;
}

function start(dir: string, extra: string[] = []): ChildProcess {
  return spawn(process.execPath, [BIN, 'run', 'e.yaml', '--quiet', ...extra], { cwd: dir, env: ENV, stdio: 'ignore' });
}

function runToEnd(dir: string, extra: string[] = []) {
  return spawnSync(process.execPath, [BIN, 'run', 'e.yaml', '--quiet', ...extra], {
    cwd: dir,
    env: ENV,
    encoding: 'utf8',
  });
}

function runsOf(dir: string) {
  const path = join(dir, 'results', 'squash.db');
  if (!existsSync(path)) return [];
  let conn: Database.Database | undefined;
  try {
    // The runner may still be creating the file (no tables yet): not ready is an empty list.
    conn = new Database(path, { readonly: true, fileMustExist: true });
    return conn.prepare('SELECT trial_id, status, is_baseline, pid, attempt FROM runs').all() as Array<{
      trial_id: string;
      status: string;
      is_baseline: number;
      pid: number;
      attempt: number;
    }>;
  } catch {
    return [];
  } finally {
    conn?.close();
  }
}

async function waitFor(cond: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const finished = (dir: string) => {
  try {
    return runsOf(dir).filter((r) => r.status === 'FINISHED' && !r.is_baseline).length;
  } catch {
    return 0;
  }
};

function expectEachTrialFinishedOnce(dir: string) {
  const runs = runsOf(dir);
  const byTrial = new Map<string, string[]>();
  for (const r of runs) byTrial.set(r.trial_id, [...(byTrial.get(r.trial_id) ?? []), r.status]);
  expect(byTrial.size).toBe(TRIALS + 1); // + the baseline
  for (const statuses of byTrial.values()) expect(statuses.filter((s) => s === 'FINISHED')).toHaveLength(1);
  expect(runs.some((r) => r.status === 'RUNNING')).toBe(false);
  return runs;
}

describe('crash safety and concurrency (real processes, real SQLite)', () => {
  it('a sweep SIGKILLed at several points ends, after reruns, with every trial FINISHED exactly once', async () => {
    const dir = workspace();
    for (const after of [0, 2, 5]) {
      const child = start(dir);
      // after = 0: killed while the baseline trains or the first trial runs.
      await waitFor(() => finished(dir) >= after && runsOf(dir).some((r) => r.status === 'RUNNING'));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const last = runToEnd(dir);
    expect(last.status).toBe(0);
    const runs = expectEachTrialFinishedOnce(dir);
    // The runs the kills interrupted were found dead (pid gone) and marked KILLED, then redone.
    expect(runs.filter((r) => r.status === 'KILLED').length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...runs.map((r) => r.attempt))).toBeGreaterThanOrEqual(2);
    // And a rerun of the finished sweep trains nothing and changes nothing.
    const before = runsOf(dir).length;
    const again = spawnSync(process.execPath, [BIN, 'run', 'e.yaml'], { cwd: dir, env: ENV, encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/0 finished, 8 skipped/);
    expect(again.stderr).not.toMatch(/epoch/);
    expect(runsOf(dir).length).toBe(before);
  });

  it('two runners on one database finish the grid with no duplicate and no crash', async () => {
    const dir = workspace();
    const a = start(dir);
    const b = start(dir);
    const codes = await Promise.all([a, b].map((c) => new Promise<number | null>((r) => c.once('exit', r))));
    expect(codes).toEqual([0, 0]);
    const runs = expectEachTrialFinishedOnce(dir);
    expect(runs.filter((r) => r.status === 'FINISHED' && r.is_baseline)).toHaveLength(1);
  });

  it('--jobs 2 runs trials in this process and a worker process, each trial once', () => {
    const dir = workspace();
    // Longer fine-tuning, so the worker (which starts ~1 s later) is sure to find trials left.
    writeFileSync(join(dir, 'e.yaml'), EXPERIMENT.replace('finetune: { epochs: 2 }', 'finetune: { epochs: 12 }'));
    const r = runToEnd(dir, ['--jobs', '2']);
    expect(r.status).toBe(0);
    const runs = expectEachTrialFinishedOnce(dir);
    expect(new Set(runs.filter((x) => !x.is_baseline).map((x) => x.pid)).size).toBe(2);
  });

  it('--dry-run lists the trials and writes nothing; --force reruns finished trials', () => {
    const dir = workspace();
    const dry = spawnSync(process.execPath, [BIN, 'run', 'e.yaml', '--dry-run'], {
      cwd: dir,
      env: ENV,
      encoding: 'utf8',
    });
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/crashy: 8 trials, 0 finished, 8 to run \(dry run: nothing written\)/);
    expect(dry.stdout.match(/to run$/gm)).toHaveLength(8);
    expect(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout).not.toMatch(/results/);
    expect(runToEnd(dir).status).toBe(0);
    const dry2 = spawnSync(process.execPath, [BIN, 'run', 'e.yaml', '--dry-run'], {
      cwd: dir,
      env: ENV,
      encoding: 'utf8',
    });
    expect(dry2.stdout).toMatch(/8 finished, 0 to run/);
    expect(runToEnd(dir, ['--force']).status).toBe(0);
    const runs = runsOf(dir).filter((r) => !r.is_baseline);
    expect(runs.filter((r) => r.status === 'FINISHED')).toHaveLength(16);
    expect(runsOf(dir).filter((r) => r.is_baseline)).toHaveLength(1);
  });
});
