import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from './cli.js';
import { exitCodeFor } from './errors.js';

const CORPUS = fileURLToPath(new URL('../../runner/src/spec/__fixtures__/invalid/', import.meta.url));

async function squash(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const io = { out: (_s: string) => undefined, err: (s: string) => void (err += s) };
  try {
    return { code: await main(argv, io), err };
  } catch (e) {
    return { code: exitCodeFor(e, io.err), err };
  }
}

describe('every malformed experiment file (the runner corpus) through the CLI', () => {
  it('exits 2 naming the file and line, and leaves an existing database byte-for-byte unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'squash-corpus-'));
    const db = join(dir, 'squash.db');
    // A real database with a finished run in it.
    writeFileSync(
      join(dir, 'ok.yaml'),
      `name: ok
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 8, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 200, test: 100 } }
train: { epochs: 1 }
sweeps: [{ name: s, stages: [{ quantize-weights: { bits: 8 } }] }]
`,
    );
    expect((await squash(['run', join(dir, 'ok.yaml'), '--db', db, '--quiet', '--backend', 'wasm'])).code).toBe(0);
    const before = readFileSync(db);
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(25);
    for (const f of files) {
      const path = join(dir, f);
      copyFileSync(join(CORPUS, f), path);
      const r = await squash(['run', path, '--db', db]);
      expect(r.code, f).toBe(2);
      expect(r.err, f).toMatch(new RegExp(`${f.replace(/\./g, '\\.')}:\\d+:\\d+: `));
      expect(readFileSync(db).equals(before), f).toBe(true);
    }
  });

  it('asks for --yes above 500 trials, and shows them with --dry-run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'squash-big-'));
    const file = join(dir, 'big.yaml');
    writeFileSync(
      file,
      `name: big
model: article-mlp
dataset: { name: mnist }
sweeps:
  - name: clip
    stages:
      - clip-weights: { threshold: { range: { start: 0.001, stop: 0.6, step: 0.001 } } }
`,
    );
    const r = await squash(['run', file, '--db', join(dir, 'db.sqlite')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/expands to 600 trials \(more than 500\); check it with --dry-run, then rerun with --yes/);
    expect(readdirSync(dir)).toEqual(['big.yaml']);
  });
});
