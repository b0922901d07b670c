/** Real `squash` processes for the fault tests: start them, signal them, watch the database and /proc. */
import Database from 'better-sqlite3';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
export const ENV = { ...process.env, SQUASH_BACKEND: 'wasm' };

/** A line of a stack trace: what no fault may print. */
export const STACK = /\n\s+at .+[:(]/;

/** A directory holding `e.yaml`; its real path, so it compares equal to /proc/<pid>/cwd. */
export function workspace(experiment: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'squash-faults-')));
  writeFileSync(join(dir, 'e.yaml'), experiment);
  return dir;
}

export interface Started {
  child: ChildProcess;
  pid: number;
  /** Resolves when the process has exited: its shell status (128 + n when a signal ended it) and output. */
  exited: Promise<{ status: number; stdout: string; stderr: string }>;
}

/** The shell's view of how a process ended. */
export function shellStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + constants.signals[signal!];
}

/** Starts `command args` in `dir` in a process group of its own (so a group signal reaches only it). */
export function start(dir: string, command: string, args: string[], opts: { stdin?: boolean } = {}): Started {
  const child = spawn(command, args, {
    cwd: dir,
    env: ENV,
    detached: true,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ status: shellStatus(code, signal), stdout, stderr })),
  );
  return { child, pid: child.pid!, exited };
}

/** `squash run e.yaml` in `dir`. */
export function startRun(dir: string, extra: string[] = []): Started {
  return start(dir, process.execPath, [BIN, 'run', 'e.yaml', '--quiet', ...extra]);
}

export interface RunRow {
  id: string;
  trial_id: string;
  status: string;
  is_baseline: number;
  pid: number;
  error: string | null;
  started_at: string;
  sweep: string;
  attempt: number;
}

export function runsOf(dir: string): RunRow[] {
  const path = join(dir, 'results', 'squash.db');
  if (!existsSync(path)) return [];
  let conn: Database.Database | undefined;
  try {
    // The runner may still be creating the file (no tables yet): not ready is an empty list.
    conn = new Database(path, { readonly: true, fileMustExist: true });
    return conn
      .prepare(
        'SELECT id, trial_id, status, is_baseline, pid, error, started_at, sweep, attempt FROM runs ORDER BY rowid',
      )
      .all() as RunRow[];
  } catch {
    return [];
  } finally {
    conn?.close();
  }
}

/** Polls `cond`; fails when it takes longer than `ms`, or when `run` ended before it held. */
export async function waitFor(what: string, cond: () => boolean, ms = 90_000, run?: Started): Promise<void> {
  const t0 = Date.now();
  let ended: { status: number; stdout: string; stderr: string } | undefined;
  void run?.exited.then((e) => (ended = e));
  while (!cond()) {
    if (ended) throw new Error(`exited (${ended.status}) before ${what}:\n${ended.stdout}${ended.stderr}`);
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Live processes (zombies left out) whose working directory is `dir`: every process of a run started
 * there, workers included, whoever their parent is now.
 */
export function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) !== dir) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] !== 'Z') pids.push(Number(name));
    } catch {
      // Gone meanwhile, or another user's.
    }
  }
  return pids;
}

/** Ends whatever a failed test left running in `dir`. */
export function killAllIn(dir: string): void {
  for (const pid of processesIn(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** The resume check: every trial (and the baseline) FINISHED exactly once, nothing RUNNING. */
export function expectEachTrialFinishedOnce(dir: string, trials: number): RunRow[] {
  const runs = runsOf(dir);
  const finished = new Map<string, number>();
  for (const r of runs) finished.set(r.trial_id, (finished.get(r.trial_id) ?? 0) + (r.status === 'FINISHED' ? 1 : 0));
  expect(finished.size).toBe(trials + 1); // + the baseline
  expect([...finished.values()].every((n) => n === 1)).toBe(true);
  expect(runs.filter((r) => r.status === 'RUNNING')).toEqual([]);
  return runs;
}
