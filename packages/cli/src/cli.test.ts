import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

function squash(args: string[], cwd = process.cwd()) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, SQUASH_BACKEND: 'wasm' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const TINY = `name: tiny-cli
model:
  name: tiny-mlp
  layers:
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
dataset:
  name: synthetic
  samples: { train: 600, test: 200 }
train: { epochs: 3 }
sweeps:
  - name: bits
    stages:
      - quantize-weights: { bits: [8, 4] }
`;

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'squash-cli-'));
  writeFileSync(join(dir, 'tiny.yaml'), TINY);
  return dir;
}

describe('squash CLI (real processes)', () => {
  it('prints help', () => {
    const r = squash(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/squash run <experiment\.yaml>/);
    expect(r.out).toMatch(/squash report/);
  });

  it('rejects an unknown command with exit 2 and a suggestion', () => {
    const r = squash(['reprot', 'x']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command 'reprot'; did you mean 'report'\?/);
  });

  it('runs an experiment, prints the table, and skips finished trials on rerun', () => {
    const dir = workspace();
    const first = squash(['run', 'tiny.yaml'], dir);
    expect(first.code).toBe(0);
    expect(existsSync(join(dir, 'results', 'squash.db'))).toBe(true);
    expect(first.err).toMatch(/backend wasm/);
    expect(first.out).toMatch(/^baseline\s+baseline \(tiny-mlp, 3 epochs\)/m);
    expect(first.out).toMatch(/^bits\s+quantize-weights\(bits=8\)/m);
    const again = squash(['run', 'tiny.yaml'], dir);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/0 finished, 2 skipped/);
    expect(again.err).not.toMatch(/epoch/);
    const csv = squash(['report', 'tiny-cli', '--format', 'csv'], dir);
    expect(csv.code).toBe(0);
    expect(csv.out.trim().split('\r\n')).toHaveLength(4);
    const md = squash(['report', 'tiny.yaml', '--format', 'markdown', '--out', 'r.md'], dir);
    expect(md.code).toBe(0);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toMatch(/^\| sweep \| trial \|/m);
    // --limit: the rows are chosen from light heads, the Pareto front first; the title says so.
    const limited = squash(['report', 'tiny-cli', '--limit', '1', '--format', 'csv'], dir);
    expect(limited.code).toBe(0);
    expect(limited.out.trim().split('\r\n')).toHaveLength(2);
    const limitedTerm = squash(['report', 'tiny-cli', '--limit', '2'], dir).out;
    expect(limitedTerm).toMatch(
      /^tiny-cli: 2 trials, backend wasm; showing 2 of 3 rows \(the Pareto front, then the first in table order\)$/m,
    );
    expect(limitedTerm.match(/★/g)!.length).toBeGreaterThanOrEqual(1);
    expect(squash(['report', 'tiny.yaml', '--limit', 'all'], dir).out).not.toMatch(/showing/);
    const badLimit = squash(['report', 'tiny-cli', '--limit', '0'], dir);
    expect(badLimit.code).toBe(2);
    expect(badLimit.err).toMatch(/--limit: --limit expects a positive whole number or 'all', got '0'/);
    // A --force rerun adds runs; the report keeps one per trial (its latest FINISHED run).
    expect(squash(['run', 'tiny.yaml', '--force', '--quiet'], dir).code).toBe(0);
    expect(squash(['report', 'tiny-cli', '--format', 'csv'], dir).out.trim().split('\r\n')).toHaveLength(4);
    expect(
      squash(['report', 'tiny-cli', '--format', 'csv', '--limit', '2'], dir).out.trim().split('\r\n'),
    ).toHaveLength(3);
    // ls / show / compare / history over the same database.
    const ls = squash(['ls', '--format', 'csv'], dir);
    expect(ls.code).toBe(0);
    expect(ls.out).toMatch(/^tiny-cli,1,5,5,0,0,0,/m);
    const csvRows = csv.out.trim().split('\r\n');
    expect(csvRows[2]).toMatch(/^bits,quantize-weights\(bits=8\)/);
    const db = join(dir, 'results', 'squash.db');
    const conn = new Database(db, { readonly: true });
    const ids = (
      conn.prepare('SELECT id, trial_id FROM runs WHERE is_baseline = 0 ORDER BY rowid').all() as Array<{
        id: string;
        trial_id: string;
      }>
    ).map((r) => [r.id, r.trial_id]);
    conn.close();
    const show = squash(['show', ids[0]![0]!.slice(0, 8)], dir);
    expect(show.code).toBe(0);
    expect(show.out).toMatch(/^status\s+FINISHED$/m);
    expect(show.out).toMatch(/^quantize-weights\.bits\s+8$/m);
    expect(show.out).toMatch(/^dense_1\/kernel\s+/m);
    expect(show.out).toMatch(/artifact \(model\)\s+\S+\.sqz \(\d+ bytes\)/);
    const cmp = squash(['compare', ids[0]![0]!, ids[1]![0]!, '--format', 'csv'], dir);
    expect(cmp.code).toBe(0);
    expect(cmp.out).toMatch(/^quantize-weights\.bits,8,4,$/m);
    expect(cmp.out).toMatch(/^accuracy,[\d.]+,[\d.]+,-?[\d.e-]+$/m);
    const hist = squash(['history', ids[0]![1]!], dir);
    expect(hist.code).toBe(0);
    expect(hist.out).toMatch(/2 runs/);
    const histFilter = squash(['history', 'params.quantize-weights.bits = 4'], dir);
    expect(histFilter.code).toBe(0);
    expect(histFilter.out).toMatch(/quantize-weights\(bits=4\)/);
    expect(histFilter.out).not.toMatch(/quantize-weights\(bits=8\)/);
    expect(squash(['show', 'ffffffff'], dir).code).toBe(2);
    expect(squash(['compare', ids[0]![0]!], dir).code).toBe(2);
    // query: typed filters on a read-only connection; bad input points at the column.
    const q = squash(
      [
        'query',
        'params.quantize-weights.bits > 4 and attributes.status = "FINISHED"',
        '--columns',
        'label, params.quantize-weights.bits',
        '--format',
        'csv',
      ],
      dir,
    );
    expect(q.code).toBe(0);
    expect(q.out.trim().split('\r\n')).toEqual([
      'label,params.quantize-weights.bits',
      'quantize-weights(bits=8),8',
      'quantize-weights(bits=8),8',
    ]); // query lists every run, the --force rerun too
    const bad = squash(['query', 'metrics.accuracy >'], dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/column 19: expected a value after '>'/);
    // html: one self-contained file, escaped, written beside the database by default.
    const html = squash(['report', 'tiny-cli', '--format', 'html'], dir);
    expect(html.code).toBe(0);
    const page = readFileSync(join(dir, 'results', 'reports', 'tiny-cli.html'), 'utf8');
    expect(page).toMatch(/<svg/);
    expect(page).not.toMatch(/<script/);
    expect(squash(['report', 'tiny-cli', '--format', 'json'], dir).out).toMatch(/^\{"title":"tiny-cli/);
    // A file reports the trials it plans now; the name reports every run stored under it.
    writeFileSync(join(dir, 'tiny.yaml'), TINY.replace('bits: [8, 4]', 'bits: [8]'));
    expect(squash(['report', 'tiny.yaml', '--format', 'csv'], dir).out.trim().split('\r\n')).toHaveLength(3);
    expect(squash(['report', 'tiny-cli', '--format', 'csv'], dir).out.trim().split('\r\n')).toHaveLength(4);
  });

  it('rejects a malformed file with file:line:col, exit 2, and writes nothing', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'bad.yaml'), TINY.replace('bits: [8, 4]', 'bitz: [8, 4]'));
    const r = squash(['run', 'bad.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /bad\.yaml:15:29: sweeps\[0\]\.stages\[0\]\.quantize-weights\.bitz: unknown key 'bitz'; did you mean 'bits'\?/,
    );
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it('leaves an existing database byte-for-byte unchanged on a malformed file', () => {
    const dir = workspace();
    expect(squash(['run', 'tiny.yaml'], dir).code).toBe(0);
    const db = join(dir, 'results', 'squash.db');
    const before = readFileSync(db);
    writeFileSync(join(dir, 'bad.yaml'), TINY.replace('epochs: 3', 'epochs: three'));
    const r = squash(['run', 'bad.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /bad\.yaml:11:18: train\.epochs: expected integer, list or range\/linspace\/logspace, got 'three'/,
    );
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('reports a missing file, an unknown experiment and a bad format with exit 2', () => {
    const dir = workspace();
    expect(squash(['run', 'nope.yaml'], dir).err).toMatch(/nope\.yaml: cannot read experiment file: ENOENT/);
    expect(squash(['run', 'nope.yaml'], dir).code).toBe(2);
    expect(squash(['run', 'tiny.yaml', '--backend', 'gpu'], dir).code).toBe(2);
    expect(squash(['report', 'tiny-cli'], dir).err).toMatch(/no database at/);
    expect(squash(['run', 'tiny.yaml'], dir).code).toBe(0);
    const unknown = squash(['report', 'tiny-clu'], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no runs for experiment 'tiny-clu'; did you mean 'tiny-cli'\?/);
    expect(squash(['report', 'tiny-cli', '--format', 'pdf'], dir).code).toBe(2);
  });
});
