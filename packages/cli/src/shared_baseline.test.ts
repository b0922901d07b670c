import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '@squash/runner';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

// Two experiments (other names, so other claims in the store) with one baseline config; its
// training lasts a few seconds, so the second process starts while the first still trains.
const experiment = (name: string, bits: number) => `name: ${name}
model: { name: wide, layers: [{ type: flatten }, { type: dense, units: 128, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 3000, test: 200 } }
train: { epochs: 16 }
sweeps:
  - name: s
    stages:
      - quantize-weights: { bits: ${bits} }
`;

/** Runs `squash run <file> --json`; `onEvent` sees each event as it arrives. */
function run(dir: string, file: string, onEvent: (e: RunEvent) => void = () => {}) {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'run', file, '--json'], {
    cwd: dir,
    env: { ...process.env, SQUASH_BACKEND: 'wasm' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: RunEvent[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const e = JSON.parse(line) as RunEvent;
      events.push(e);
      onEvent(e);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { events, exited, stderr: () => stderr };
}

describe('one baseline config across experiments (real processes)', () => {
  it('is trained by one process while the other waits for the cached model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'squash-shared-'));
    writeFileSync(join(dir, 'a.yaml'), experiment('exp-a', 8));
    writeFileSync(join(dir, 'b.yaml'), experiment('exp-b', 4));
    let trainingStarted!: () => void;
    const training = new Promise<void>((resolve) => (trainingStarted = resolve));
    const first = run(dir, 'a.yaml', (e) => e.type === 'baseline-start' && trainingStarted());
    void first.exited.then(() => trainingStarted());
    await training;
    const second = run(dir, 'b.yaml');
    expect(await first.exited, first.stderr()).toBe(0);
    expect(await second.exited, second.stderr()).toBe(0);

    const baselines = (events: RunEvent[]) => events.filter((e) => e.type === 'baseline');
    expect(baselines(first.events)).toEqual([expect.objectContaining({ cacheHit: false })]);
    expect(baselines(second.events)).toEqual([expect.objectContaining({ cacheHit: true })]);
    // The second waited for the first (by host:pid) and trained no epoch of its own.
    expect(second.events.some((e) => e.type === 'baseline-wait')).toBe(true);
    expect(second.events.some((e) => e.type === 'baseline-start' || e.type === 'epoch')).toBe(false);

    const db = new Database(join(dir, 'results', 'squash.db'), { readonly: true });
    const rows = db
      .prepare(
        `SELECT e.name AS experiment, p.value_num AS cacheHit FROM runs r
         JOIN experiments e ON e.id = r.experiment_id
         JOIN params p ON p.run_id = r.id AND p.key = 'cache_hit'
         WHERE r.is_baseline = 1 ORDER BY e.name`,
      )
      .all();
    db.close();
    expect(rows).toEqual([
      { experiment: 'exp-a', cacheHit: 0 },
      { experiment: 'exp-b', cacheHit: 1 },
    ]);
  }, 60_000);
});
