import { cpSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idxBytes as idx } from '@squash/datasets/writers';
import { describe, expect, it } from 'vitest';
import { squashInProcess as squash } from './__tests__/in_process.js';

/** 4×4 images of two classes (bright top or bottom half). */
function writeIdx(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const split = (n: number) => {
    const y = Array.from({ length: n }, (_, i) => i % 2);
    const x = y.flatMap((c, i) => Array.from({ length: 16 }, (_, p) => (p < 8 === (c === 0) ? 200 : 30) + (i % 7)));
    return [idx([n, 4, 4], x), idx([n], y)] as const;
  };
  const [trainX, trainY] = split(40);
  const [testX, testY] = split(10);
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), trainX);
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), trainY);
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), testX);
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), testY);
}

const EXPERIMENT = (path: string) => `name: digits
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 2, activation: softmax }] }
dataset:
  name: idx
  path: ${path}
  normalize: global
train: { epochs: 1, batchSize: 8 }
sweeps:
  - name: q
    stages:
      - quantize-weights: { bits: [8] }
`;

describe('dataset identity at the command line', () => {
  it('query finds runs by dataset path, show prints the path and hash, report says what the data was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'squash-cli-data-'));
    const db = join(dir, 'squash.db');
    writeIdx(join(dir, 'data', 'my-digits'));
    writeFileSync(join(dir, 'e.yaml'), EXPERIMENT('data/my-digits'));
    const run = await squash(['run', join(dir, 'e.yaml'), '--db', db, '--quiet']);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);

    const found = await squash(['query', "params.dataset.path like '%my-digits%'", '--db', db, '--format', 'json']);
    expect(found.code).toBe(0);
    const rows = JSON.parse(found.out).rows as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(2); // the baseline and the trial
    const none = await squash(['query', "params.dataset.path like '%elsewhere%'", '--db', db, '--format', 'json']);
    expect(JSON.parse(none.out).rows).toHaveLength(0);

    const trial = rows.find((r) => r.sweep === 'q')!;
    const show = await squash(['show', String(trial.run_id), '--db', db]);
    expect(show.code).toBe(0);
    expect(show.out).toMatch(/^\s*dataset\.path\s+data\/my-digits\s*$/m);
    const sha = /^\s*dataset\.sha256\s+([0-9a-f]{64})\s*$/m.exec(show.out)?.[1];
    expect(sha).toBeDefined();
    expect(show.out).toMatch(/^\s*dataset\.normalize\s+mean=global,std=global\s*$/m);
    expect(show.out).toMatch(/^\s*dataset\.normalize\.mean\s+0\.\d+/m);
    const bySha = await squash(['query', `params.dataset.sha256 = '${sha}'`, '--db', db, '--format', 'json']);
    expect(JSON.parse(bySha.out).rows).toHaveLength(2);

    const report = await squash(['report', 'digits', '--db', db]);
    expect(report.out).toContain(`data idx data/my-digits (sha256 ${sha!.slice(0, 12)})`);

    // The same files elsewhere: planned as the same trials, so nothing runs again.
    cpSync(join(dir, 'data', 'my-digits'), join(dir, 'moved'), { recursive: true });
    writeFileSync(join(dir, 'e.yaml'), EXPERIMENT('moved'));
    const again = await squash(['run', join(dir, 'e.yaml'), '--db', db, '--dry-run']);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^digits: 1 trials, 1 finished, 0 to run/);
    // One byte changed: other data, other trials.
    const labels = join(dir, 'moved', 't10k-labels-idx1-ubyte');
    const bytes = readFileSync(labels);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(labels, bytes);
    const t = Date.now() / 1000 + 10;
    utimesSync(labels, t, t);
    const edited = await squash(['run', join(dir, 'e.yaml'), '--db', db, '--dry-run']);
    expect(edited.out).toMatch(/^digits: 1 trials, 0 finished, 1 to run/);
  });
});
