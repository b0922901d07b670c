import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ENV, type RunRow, runsOf, startRun, waitFor, workspace } from './__tests__/processes.js';

// A real (small) search: a baseline trained on synthetic data, candidates fine-tuned for real.
const EXPERIMENT = (strategy: string) => `name: searchy
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 24, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 800, test: 200 } }
train: { epochs: 4, validationSplit: 0.25 }
search:
  name: small
  objective: { minimize: artifact_bytes }
  constraints: ['accuracy >= baseline.accuracy - 0.05']
  pipeline:
    - prune-weights: { retention: { per-layer: { min: 0.05, max: 0.8, log: true } } }
    - quantize-weights: { scheme: kmeans, bits: { per-layer: [2, 4, 6] } }
    - finetune: { epochs: 1 }
    - huffman: {}
  budget: { trials: 6 }
  batch: 2
  strategy: ${strategy}
`;

const run = (dir: string, args: string[] = []) =>
  spawnSync(process.execPath, [BIN, 'run', 'e.yaml', '--quiet', ...args], { cwd: dir, env: ENV, encoding: 'utf8' });

/** Candidate metrics, by trial id: what a resumed or repeated search must reproduce. */
function metricsOf(dir: string): Map<string, Record<string, number>> {
  const conn = new Database(join(dir, 'results', 'squash.db'), { readonly: true });
  try {
    const rows = conn
      .prepare(
        `SELECT r.trial_id AS t, m.key AS k, m.value AS v FROM runs r JOIN metrics m ON m.run_id = r.id
         WHERE r.status = 'FINISHED' AND r.sweep = 'small' AND m.key IN ('val_accuracy', 'artifact_bytes') AND m.step = 0`,
      )
      .all() as Array<{ t: string; k: string; v: number }>;
    const out = new Map<string, Record<string, number>>();
    for (const r of rows) out.set(r.t, { ...out.get(r.t), [r.k]: r.v });
    return out;
  } finally {
    conn.close();
  }
}

const candidates = (dir: string) => runsOf(dir).filter((r) => r.sweep === 'small');
const finished = (dir: string) => candidates(dir).filter((x) => x.status === 'FINISHED');

describe('squash run with a search', () => {
  it('runs the candidates as ordinary trials, keeps the best feasible and reports it', () => {
    const dir = workspace(EXPERIMENT('sensitivity'));
    const r = run(dir);
    expect(r.status, r.stderr).toBe(0);
    const c = candidates(dir);
    expect(c.length).toBeGreaterThan(0);
    expect(c.length).toBeLessThanOrEqual(6);
    expect(c.every((x) => x.status === 'FINISHED' && x.attempt === 1)).toBe(true);
    expect(r.stdout).toMatch(
      /search 'small' \(sensitivity, \d trials, \d+ s\): minimize artifact_bytes subject to accuracy >= baseline\.accuracy - 0\.05/,
    );
    expect(r.stdout).toMatch(
      /best feasible: trial #\d+ [0-9a-f]{12}: \d+ bytes, validation accuracy [\d.]+ %, test accuracy [\d.]+ %/,
    );
    expect(r.stdout).toMatch(/chosen model's layers \(best feasible\)/);
    // The chosen model is kept under a stable name, byte for byte its trial's .sqz.
    const [, sqz, kept] = /model: (\S+\.sqz), kept as (\S+)\n/.exec(r.stdout)!;
    expect(kept).toBe(join(dir, 'results', 'artifacts', 'searchy', 'small.best.sqz'));
    expect(readFileSync(kept!)).toEqual(readFileSync(sqz!));
    // `report` judges the stored candidates again and says the same.
    const report = spawnSync(process.execPath, [BIN, 'report', 'e.yaml'], { cwd: dir, env: ENV, encoding: 'utf8' });
    expect(report.status, report.stderr).toBe(0);
    const best = /best feasible: trial #\d+ [0-9a-f]{12}/.exec(r.stdout)![0];
    expect(report.stdout).toContain(best);
  }, 240_000);

  it('killed mid-way, resumes without repeating a finished candidate; the strategy is deterministic', async () => {
    const whole = workspace(EXPERIMENT('random'));
    expect(run(whole).status).toBe(0);
    const dir = workspace(EXPERIMENT('random'));
    const started = startRun(dir);
    await waitFor('two finished candidates', () => finished(dir).length >= 2, 180_000, started);
    started.child.kill('SIGTERM');
    // Ended by the signal it was sent (after marking its trials KILLED).
    expect((await started.exited).status).toBe(143);
    const before = finished(dir);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.length).toBeLessThan(6);
    expect(candidates(dir).some((x) => x.status === 'RUNNING')).toBe(false);
    const again = run(dir);
    expect(again.status, again.stderr).toBe(0);
    const after = candidates(dir);
    // Each finished candidate ran once; killed ones ran again; the same candidates as the uninterrupted search.
    for (const b of before) expect(after.filter((x) => x.trial_id === b.trial_id)).toHaveLength(1);
    const finishedIds = (rows: RunRow[]) => [
      ...new Set(rows.filter((x) => x.status === 'FINISHED').map((x) => x.trial_id)),
    ];
    expect(finishedIds(after).sort()).toEqual(finishedIds(candidates(whole)).sort());
    expect(finishedIds(after)).toHaveLength(6);
    expect(metricsOf(dir)).toEqual(metricsOf(whole));
  }, 360_000);

  it('with --jobs 2 a batch runs on two processes: the same candidates and numbers as one process', () => {
    const one = workspace(EXPERIMENT('sensitivity'));
    const two = workspace(EXPERIMENT('sensitivity'));
    expect(run(one).status).toBe(0);
    const r = spawnSync(process.execPath, [BIN, 'run', 'e.yaml', '--jobs', '2', '--json'], {
      cwd: two,
      env: ENV,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; jobs?: number; trials?: number });
    // One start per batch, each on two processes (which of them claims a candidate is a race).
    const starts = events.filter((e) => e.type === 'start');
    expect(starts.length).toBeGreaterThan(1);
    expect(starts.every((e) => e.jobs === 2 && e.trials! <= 2)).toBe(true);
    expect(events.filter((e) => e.type === 'search-result')).toHaveLength(1);
    expect(metricsOf(two)).toEqual(metricsOf(one));
  }, 240_000);

  it('refuses bad search input with exit 2, file:line:col and nothing written', () => {
    const dir = workspace(EXPERIMENT('random').replace("'accuracy >= baseline.accuracy - 0.05'", "'accurcy >= 0.5'"));
    const r = run(dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /e\.yaml:8:18: search\.constraints\[0\]: unknown metric 'accurcy'; did you mean 'accuracy'/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });
});
