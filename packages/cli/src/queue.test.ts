import Database from 'better-sqlite3';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keys, openQueue, parseQueueTarget } from '@squash/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, shellStatus, STACK } from './__tests__/processes.js';
import { freePort, type RedisServer, redisAvailable, startRedis } from './__tests__/redis.js';

// Six trials on a tiny synthetic set: each a few hundred ms, so a kill lands inside one.
const experiment = (name: string, finetune = 40) => `name: ${name}
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 16, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 600, test: 200 } }
train: { epochs: 2 }
sweeps:
  - name: grid
    stages:
      - prune-weights: { retention: [0.9, 0.6, 0.3] }
      - quantize-weights: { bits: [8, 4] }
      - finetune: { epochs: ${finetune} }
`;
const TRIALS = 6;
/** Queue names of this run: a shared server (SQUASH_TEST_REDIS, from .ci/run) never shows them an earlier run's jobs. */
const RUN_ID = randomUUID().slice(0, 8);
const q = (name: string) => `${name}-${RUN_ID}`;
// A killed worker's job returns to the queue once its 2 s lock has expired, not after BullMQ's 30 s.
const ENV = { ...process.env, SQUASH_BACKEND: 'wasm', SQUASH_QUEUE_LOCK_MS: '2000' };

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ status: number; stdout: string; stderr: string }>;
}

function squash(dir: string, args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ status: shellStatus(code, signal), stdout, stderr })),
  );
  return { child, out: () => stdout, err: () => stderr, exited };
}

function dirWith(name: string, text?: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `squash-queue-${name}-`)));
  if (text) writeFileSync(join(dir, 'e.yaml'), text);
  return dir;
}

/** `squash worker --json` in a directory of its own (its own cache: no file is shared with anyone). */
function worker(url: string, queue: string): Proc & { events: () => Array<Record<string, string>> } {
  const dir = dirWith('worker');
  const p = squash(dir, ['worker', '--queue', url, '--queue-name', queue, '--json']);
  return {
    ...p,
    events: () =>
      p
        .out()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

async function stopWorkers(ws: Proc[]): Promise<void> {
  for (const w of ws) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await Promise.all(ws.map((w) => w.exited));
}

async function waitFor(what: string, cond: () => boolean, ms = 60_000, ...procs: Proc[]): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms)
      throw new Error(`timed out waiting for ${what}; output:\n${procs.map((p) => p.out() + p.err()).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Row {
  trial_id: string;
  status: string;
  is_baseline: number;
  metrics: Record<string, number>;
  sha256: string | null;
}

function rowsOf(dir: string): Row[] {
  const path = join(dir, 'results', 'squash.db');
  if (!existsSync(path)) return [];
  const db = new Database(path, { readonly: true });
  try {
    // The recorder may still be creating the file: no tables yet is no runs.
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'runs'").get()) return [];
    const runs = db.prepare('SELECT id, trial_id, status, is_baseline FROM runs ORDER BY rowid').all() as Array<
      Omit<Row, 'metrics' | 'sha256'> & { id: string }
    >;
    return runs.map((r) => {
      const metrics = Object.fromEntries(
        (
          db.prepare('SELECT key, value FROM metrics WHERE run_id = ?').all(r.id) as Array<{
            key: string;
            value: number;
          }>
        )
          // Times differ between any two runs; everything else must not.
          .filter((m) => !/seconds/.test(m.key))
          .map((m) => [m.key, m.value]),
      );
      const sha = db.prepare("SELECT sha256 FROM artifacts WHERE run_id = ? AND kind = 'model'").pluck().get(r.id);
      return {
        trial_id: r.trial_id,
        status: r.status,
        is_baseline: r.is_baseline,
        metrics,
        sha256: (sha as string) ?? null,
      };
    });
  } finally {
    db.close();
  }
}

/** Every trial and the baseline FINISHED exactly once, nothing else recorded, the file sound. */
function expectEachFinishedOnce(dir: string): Row[] {
  const rows = rowsOf(dir);
  const count = new Map<string, number>();
  for (const r of rows) count.set(r.trial_id, (count.get(r.trial_id) ?? 0) + (r.status === 'FINISHED' ? 1 : 0));
  expect(count.size).toBe(TRIALS + 1);
  expect([...count.values()]).toEqual(Array(TRIALS + 1).fill(1));
  expect(rows.filter((r) => r.status !== 'FINISHED')).toEqual([]);
  const db = new Database(join(dir, 'results', 'squash.db'), { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  } finally {
    db.close();
  }
  return rows;
}

const completed = (w: ReturnType<typeof worker>) => w.events().filter((e) => e.type === 'completed');

/** A search of four candidates in batches of two. */
const SEARCH = `name: searched
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 16, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 600, test: 200 } }
train: { epochs: 2, validationSplit: 0.25 }
search:
  name: small
  objective: { minimize: artifact_bytes }
  constraints: ['accuracy >= baseline.accuracy - 0.05']
  pipeline:
    - prune-weights: { retention: { per-layer: { min: 0.1, max: 0.9 } } }
    - quantize-weights: { bits: { per-layer: [4, 8] } }
    - finetune: { epochs: 2 }
  budget: { trials: 4 }
  batch: 2
`;

describe.runIf(redisAvailable())('sweeps through a BullMQ queue', () => {
  // The server .ci/run started, else one of this file's own; Redis restarts and passwords get their own always.
  let redis: Pick<RedisServer, 'url' | 'stop'>;
  beforeAll(async () => {
    const shared = process.env.SQUASH_TEST_REDIS;
    redis = shared ? { url: shared, stop: async () => {} } : await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('three workers in separate directories give the local run: same trial ids, same numbers, same .sqz bytes', async () => {
    const text = experiment('same');
    const local = dirWith('local', text);
    const queued = dirWith('recorder', text);
    const ran = await squash(local, ['run', 'e.yaml', '--quiet']).exited;
    expect(ran.status, ran.stderr).toBe(0);
    const workers = [1, 2, 3].map(() => worker(redis.url, q('same')));
    try {
      const rec = await squash(queued, ['run', 'e.yaml', '--queue', redis.url, '--queue-name', q('same'), '--quiet'])
        .exited;
      expect(rec.stderr).not.toMatch(STACK);
      expect(rec.status, rec.stderr).toBe(0);
      expect(rec.stdout).toMatch(/prune-weights\(retention=0\.3\) → quantize-weights\(bits=4\)/);
    } finally {
      await stopWorkers(workers);
    }
    const byId = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.trial_id, r]));
    const want = byId(expectEachFinishedOnce(local));
    const got = byId(expectEachFinishedOnce(queued));
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const id of Object.keys(want)) {
      expect(got[id]!.metrics, id).toEqual(want[id]!.metrics);
      if (!want[id]!.is_baseline) expect(got[id]!.sha256, id).toBe(want[id]!.sha256);
    }
    // More than one worker did trials (they share nothing but Redis).
    expect(workers.filter((w) => completed(w).length > 0).length).toBeGreaterThan(1);
  });

  it('a search through the queue: batches go to the workers, the same candidates and numbers as the local search', async () => {
    const text = SEARCH;
    const local = dirWith('search-local', text);
    const queued = dirWith('search-recorder', text);
    const ran = await squash(local, ['run', 'e.yaml', '--quiet']).exited;
    expect(ran.status, ran.stderr).toBe(0);
    const workers = [1, 2].map(() => worker(redis.url, q('searched')));
    try {
      const rec = await squash(queued, [
        'run',
        'e.yaml',
        '--queue',
        redis.url,
        '--queue-name',
        q('searched'),
        '--quiet',
      ]).exited;
      expect(rec.stderr).not.toMatch(STACK);
      expect(rec.status, rec.stderr).toBe(0);
      expect(rec.stdout).toMatch(/search 'small' \(sensitivity, 4 trials/);
    } finally {
      await stopWorkers(workers);
    }
    const byId = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.trial_id, r]));
    const want = byId(rowsOf(local));
    const got = byId(rowsOf(queued));
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    expect(Object.keys(want)).toHaveLength(5);
    for (const id of Object.keys(want)) {
      expect(got[id]!.status, id).toBe('FINISHED');
      if (!want[id]!.is_baseline) expect(got[id]!.metrics, id).toEqual(want[id]!.metrics);
    }
    // The candidates were computed by the workers, not by the recorder.
    expect(workers.reduce((n, w) => n + completed(w).length, 0)).toBe(4);
  });

  it('a search whose recorder stopped: collect records the batch the workers finished, the search then goes on without redoing it', async () => {
    const dir = dirWith('search-collect', SEARCH);
    const target = parseQueueTarget(redis.url, q('searchcol'));
    const rec = squash(dir, ['run', 'e.yaml', '--queue', redis.url, '--queue-name', q('searchcol'), '--quiet']);
    const session = await openQueue(target);
    try {
      const t0 = Date.now();
      while (
        (await session.queue.getJobs(['prioritized', 'waiting'], 0, 99)).filter((j) => j.data.kind === 'trial').length <
        2
      ) {
        if (Date.now() - t0 > 60_000) throw new Error(`no batch enqueued:\n${rec.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await session.close();
    }
    rec.child.kill('SIGTERM');
    expect((await rec.exited).status).toBe(143);
    const w = worker(redis.url, q('searchcol'));
    try {
      await waitFor('the batch computed', () => completed(w).length === 2, 60_000, w);
      const col = await squash(dir, ['collect', 'e.yaml', '--queue', redis.url, '--queue-name', q('searchcol')]).exited;
      expect(col.stderr).not.toMatch(/not part of experiment/);
      expect(col.status, col.stderr).toBe(0);
      const first = rowsOf(dir).filter((r) => !r.is_baseline && r.status === 'FINISHED');
      expect(first).toHaveLength(2);
      const again = await squash(dir, [
        'run',
        'e.yaml',
        '--queue',
        redis.url,
        '--queue-name',
        q('searchcol'),
        '--quiet',
      ]).exited;
      expect(again.status, again.stderr).toBe(0);
      // Four candidates, each recorded once; the collected two were not computed again.
      const rows = rowsOf(dir).filter((r) => !r.is_baseline);
      expect(rows.filter((r) => r.status === 'FINISHED')).toHaveLength(4);
      expect(new Set(rows.map((r) => r.trial_id)).size).toBe(4);
      expect(completed(w)).toHaveLength(4);
    } finally {
      await stopWorkers([w]);
    }
  });

  it('a worker killed with SIGKILL mid-trial: the job returns to the queue and runs once more elsewhere, recorded once', async () => {
    const dir = dirWith('sigkill', experiment('sigkill', 80));
    const first = worker(redis.url, q('sigkill'));
    const rec = squash(dir, ['run', 'e.yaml', '--queue', redis.url, '--queue-name', q('sigkill'), '--quiet']);
    let second: ReturnType<typeof worker> | undefined;
    try {
      let killed: string | undefined;
      await waitFor(
        'a trial in progress on the first worker',
        () => {
          killed = first.events().find((e) => e.type === 'active' && e.kind === 'trial')?.id;
          return !!killed;
        },
        60_000,
        first,
        rec,
      );
      first.child.kill('SIGKILL');
      await first.exited;
      second = worker(redis.url, q('sigkill'));
      const end = await rec.exited;
      expect(end.stderr).not.toMatch(STACK);
      expect(end.status, end.stderr).toBe(0);
      expect(completed(second).map((e) => e.id)).toContain(killed);
      expect(completed(first).map((e) => e.id)).not.toContain(killed);
    } finally {
      await stopWorkers([first, ...(second ? [second] : []), rec]);
    }
    expectEachFinishedOnce(dir);
  });

  it('the recorder killed: on restart (squash collect) it records every result finished meanwhile', async () => {
    const dir = dirWith('recorder-restart', experiment('restart', 60));
    const w = worker(redis.url, q('restart'));
    try {
      const rec = squash(dir, ['run', 'e.yaml', '--queue', redis.url, '--queue-name', q('restart'), '--quiet']);
      await waitFor(
        'a trial recorded',
        () => rowsOf(dir).some((r) => !r.is_baseline && r.status === 'FINISHED'),
        60_000,
        w,
        rec,
      );
      rec.child.kill('SIGKILL');
      await rec.exited;
      const recordedBefore = rowsOf(dir).length;
      expect(recordedBefore).toBeLessThan(TRIALS + 1);
      // Every job done while no recorder runs: the results wait in Redis.
      await waitFor('every job done', () => completed(w).length === TRIALS + 1, 60_000, w);
      const col = await squash(dir, [
        'collect',
        'e.yaml',
        '--queue',
        redis.url,
        '--queue-name',
        q('restart'),
        '--quiet',
      ]).exited;
      expect(col.stderr).not.toMatch(STACK);
      expect(col.status, col.stderr).toBe(0);
    } finally {
      await stopWorkers([w]);
    }
    expectEachFinishedOnce(dir);
  });

  it('a pipeline state cached by one worker reaches another through Redis (its training prefix is not redone)', async () => {
    const text = experiment('states').replace(
      /stages:[\s\S]*$/,
      'stages:\n      - finetune: { epochs: 3 }\n      - quantize-weights: { bits: [8, 4] }\n',
    );
    const dir = dirWith('states', text);
    const args = ['run', 'e.yaml', '--queue', redis.url, '--queue-name', q('states'), '--quiet'];
    for (const extra of [[], ['--force']]) {
      // Each pass has a fresh worker with an empty cache of its own.
      const w = worker(redis.url, q('states'));
      try {
        const r = await squash(dir, [...args, ...extra]).exited;
        expect(r.status, r.stderr).toBe(0);
      } finally {
        await stopWorkers([w]);
      }
    }
    const db = new Database(join(dir, 'results', 'squash.db'), { readonly: true });
    try {
      const cached = db
        .prepare(
          "SELECT r.attempt, m.value FROM runs r JOIN metrics m ON m.run_id = r.id AND m.key = 'cached_stages' WHERE r.is_baseline = 0",
        )
        .all() as Array<{ attempt: number; value: number }>;
      expect(cached.filter((c) => c.attempt === 2).map((c) => c.value)).toEqual([1, 1]);
    } finally {
      db.close();
    }
  });

  it('enqueuing a sweep twice adds nothing; squash collect records it once', async () => {
    const dir = dirWith('twice', experiment('twice', 5));
    const args = ['run', 'e.yaml', '--queue', redis.url, '--queue-name', q('twice'), '--detach'];
    const one = await squash(dir, args).exited;
    expect(one.status, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/7 jobs added/);
    const two = await squash(dir, args).exited;
    expect(two.status, two.stderr).toBe(0);
    expect(two.stderr).toMatch(/0 jobs added .*7 were there already/);
    // Nothing was recorded yet: the database holds the experiment, no run.
    expect(rowsOf(dir)).toEqual([]);
    const w = worker(redis.url, q('twice'));
    try {
      const col = await squash(dir, ['collect', '--queue', redis.url, '--queue-name', q('twice'), '--quiet']).exited;
      expect(col.status, col.stderr).toBe(0);
      expect(completed(w)).toHaveLength(TRIALS + 1);
    } finally {
      await stopWorkers([w]);
    }
    expectEachFinishedOnce(dir);
  });

  it('Redis restarted (AOF on) while the workers and the recorder run: the work continues and is recorded once', async () => {
    const own = await startRedis();
    const dir = dirWith('redis-restart', experiment('aof', 100));
    const w = worker(own.url, q('aof'));
    const rec = squash(dir, ['run', 'e.yaml', '--queue', own.url, '--queue-name', q('aof'), '--quiet']);
    try {
      await waitFor('a trial done', () => completed(w).some((e) => e.kind === 'trial'), 60_000, w, rec);
      await own.restart();
      const end = await rec.exited;
      expect(end.stderr).not.toMatch(STACK);
      expect(end.status, end.stderr).toBe(0);
    } finally {
      await stopWorkers([w, rec]);
      await own.stop();
    }
    expectEachFinishedOnce(dir);
  });

  it('a job whose payload fails validation is failed with the reason, never executed; another version is refused', async () => {
    const dir = dirWith('invalid', experiment('invalid', 5));
    const target = parseQueueTarget(redis.url, q('invalid'));
    const en = await squash(dir, ['run', 'e.yaml', '--queue', redis.url, '--queue-name', q('invalid'), '--detach'])
      .exited;
    expect(en.status, en.stderr).toBe(0);
    const session = await openQueue(target);
    const jobs = await session.queue.getJobs(['prioritized', 'waiting'], 0, 99);
    const aTrial = jobs.find((j) => j.data.kind === 'trial')!;
    try {
      // Not a payload at all, and a real trial planned by another Squash.
      await session.queue.add('trial', { kind: 'trial', id: 'nonsense' } as never, { jobId: 'bad-payload' });
      await aTrial.remove();
      await session.queue.add('trial', { ...aTrial.data, squash: '0.0.1' }, { jobId: aTrial.id });
    } finally {
      await session.close();
    }
    const w = worker(redis.url, q('invalid'));
    try {
      const col = await squash(dir, ['collect', 'e.yaml', '--queue', redis.url, '--queue-name', q('invalid')]).exited;
      expect(col.stderr).not.toMatch(STACK);
      expect(col.status).toBe(1); // one trial FAILED
      expect(col.stderr).toMatch(/job bad-payload is not part of experiment invalid/);
    } finally {
      await stopWorkers([w]);
    }
    const failed = w.events().filter((e) => e.type === 'failed');
    expect(failed.map((e) => e.reason).join('\n')).toMatch(/refused: the job data has format undefined/);
    expect(failed.map((e) => e.reason).join('\n')).toMatch(/planned by Squash 0\.0\.1; this worker is Squash/);
    // Never executed: the worker ran no trial for them.
    expect(completed(w).map((e) => e.id)).not.toContain(aTrial.data.id);
    const rows = rowsOf(dir);
    expect(rows.find((r) => r.trial_id === aTrial.data.id)?.status).toBe('FAILED');
  });

  it('Redis unreachable, a wrong or missing password, a queue of another experiment: exit 2, a clear message, no database', async () => {
    const nothing = await freePort();
    const locked = await startRedis(['--requirepass', 's3cret']);
    try {
      const cases: Array<[string, RegExp]> = [
        [`redis://127.0.0.1:${nothing}`, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/],
        [`redis://:wrong@127.0.0.1:${locked.port}`, /refused the password/],
        [`redis://127.0.0.1:${locked.port}`, /requires a password/],
        ['http://127.0.0.1:1', /--queue "http:\/\/127\.0\.0\.1:1": the scheme is http/],
      ];
      for (const [url, message] of cases) {
        const dir = dirWith('errors', experiment('errors', 5));
        // Every command connects the same way: each is tried on one case, run on all.
        const others = url.includes('wrong')
          ? [
              ['collect', 'e.yaml', '--queue', url],
              ['worker', '--queue', url],
            ]
          : [];
        for (const args of [['run', 'e.yaml', '--queue', url], ...others]) {
          const r = await squash(dir, args).exited;
          expect(r.stderr, `${args.join(' ')}`).toMatch(message);
          expect(r.stderr).not.toMatch(STACK);
          expect(r.stderr).not.toMatch(/s3cret|wrong@/);
          expect(r.status, `${args.join(' ')}`).toBe(2);
        }
        expect(existsSync(join(dir, 'results'))).toBe(false);
      }
      // Another experiment's unrecorded jobs hold the queue.
      const a = dirWith('owner', experiment('owner', 5));
      expect(
        (await squash(a, ['run', 'e.yaml', '--queue', redis.url, '--queue-name', q('held'), '--detach']).exited).status,
      ).toBe(0);
      const b = dirWith('intruder', experiment('intruder', 5));
      const r = await squash(b, ['run', 'e.yaml', '--queue', redis.url, '--queue-name', q('held')]).exited;
      expect(r.stderr).toMatch(
        /queue 'held-\w+' at redis:\/\/127\.0\.0\.1:\d+\/? holds 7 jobs of experiment 'owner', not of 'intruder'/,
      );
      expect(r.status).toBe(2);
      expect(existsSync(join(b, 'results'))).toBe(false);
      // A worker of another Squash version refuses the queue before it takes a job.
      const session = await openQueue(parseQueueTarget(redis.url, q('held')));
      try {
        await session.redis.hset(keys.meta(q('held')), { squash: '0.0.1' });
      } finally {
        await session.close();
      }
      const old = await squash(b, ['worker', '--queue', redis.url, '--queue-name', q('held')]).exited;
      expect(old.stderr).toMatch(/planned by Squash 0\.0\.1; this worker is Squash \d/);
      expect(old.status).toBe(2);
    } finally {
      await locked.stop();
    }
  });
});
