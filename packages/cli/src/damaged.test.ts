import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { squashInProcess } from './__tests__/in_process.js';

/**
 * Damaged, foreign and unwritable databases, damaged caches, stray temp files and a full disk,
 * through the real CLI: each ends with its documented exit code and a message naming the file and
 * what to do — never a stack trace — and leaves the database whole.
 */

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const ENV = { ...process.env, SQUASH_BACKEND: 'wasm' };
const IS_ROOT = process.getuid?.() === 0;
/** Linux pids stay below pid_max (at most 2^22): no process has this one. */
const DEAD_PID = 4_194_304;

// Two trials sharing a trained prefix, so a pipeline state is cached.
const EXPERIMENT = `name: ok
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 8, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 200, test: 100 } }
train: { epochs: 1 }
sweeps:
  - name: s
    stages:
      - prune-weights: { retention: 0.5 }
      - finetune: { epochs: 1 }
      - quantize-weights: { bits: [8, 4] }
`;

const squash = squashInProcess;

/** The real executable, as another user when `uid` is given (root's permissions ignore chmod). */
function spawnSquash(args: string[], opts: { cwd?: string; uid?: number } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: ENV,
    encoding: 'utf8',
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function sql<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const noStack = (s: string) => expect(s).not.toMatch(/^ {4}at /m);

/** A directory holding a finished sweep: the experiment file, results/squash.db, its cache and artifacts. */
let source: string;
beforeAll(async () => {
  source = mkdtempSync(join(tmpdir(), 'squash-damaged-'));
  writeFileSync(join(source, 'ok.yaml'), EXPERIMENT);
  const r = await squash([
    'run',
    join(source, 'ok.yaml'),
    '--db',
    join(source, 'results/squash.db'),
    '--quiet',
    '--backend',
    'wasm',
  ]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
});

/** A fresh copy of the finished sweep to damage. */
function copy(): { dir: string; db: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'squash-damaged-'));
  cpSync(source, dir, { recursive: true });
  return { dir, db: join(dir, 'results/squash.db'), file: join(dir, 'ok.yaml') };
}

describe('databases squash cannot use: exit 2, the file named, what to do, nothing written', () => {
  const cases: Array<[string, (db: string) => void, RegExp]> = [
    [
      'a text file',
      (db) => writeFileSync(db, 'these are notes\n'.repeat(500)),
      /: file is not a database \(use another --db; if it held Squash runs, restore a backup\)$/m,
    ],
    [
      'a truncated database',
      (db) => writeFileSync(db, readFileSync(db).subarray(0, 3 * 4096 + 100)),
      /: database disk image is malformed \(damaged: run `squash doctor --db .*` or restore a backup\)$/m,
    ],
    [
      'a database whose pages were overwritten',
      (db) => {
        const bytes = readFileSync(db);
        bytes.fill(0xa5, bytes.readUInt16BE(16)); // every page but the first (the schema)
        writeFileSync(db, bytes);
      },
      /damaged: run `squash doctor --db .*` or restore a backup\)$/m,
    ],
    [
      'a directory',
      (db) => {
        rmSync(db);
        mkdirSync(db);
      },
      /: is a directory, not a database file \(give --db the path of a database file/,
    ],
    [
      'another application database',
      (db) => {
        rmSync(db);
        sql(db, (c) => c.exec("CREATE TABLE users (id INTEGER, name TEXT); INSERT INTO users VALUES (1, 'ann')"));
      },
      /: not a Squash database \(tables: users\) \(use another --db\)$/m,
    ],
    [
      'a database of a newer Squash',
      (db) => sql(db, (c) => c.prepare("INSERT INTO _squash_migrations VALUES ('9999_future', 'x')").run()),
      /: written by a newer Squash \(migrations 9999_future\); upgrade Squash to open it$/m,
    ],
  ];

  it.each(cases)('%s', async (_, damage, message) => {
    const { db, file } = copy();
    damage(db);
    // A reader of a WAL database leaves SQLite's -wal/-shm beside it (its index, not data).
    const listing = () =>
      readdirSync(join(db, '..'))
        .filter((f) => !/-(wal|shm)$/.test(f))
        .sort();
    const before = listing();
    const bytes = () => (before.includes('squash.db') && !message.source.includes('directory') ? readFileSync(db) : '');
    const was = bytes();
    for (const argv of [
      ['report', 'ok'],
      ['report', file],
      ['query', 'metrics.accuracy > 0'],
      ['ls'],
      ['show', 'abc'],
      ['history', 'abc'],
      ['run', file, '--dry-run'],
      ['run', file, '--backend', 'wasm'],
    ]) {
      const r = await squash([...argv, '--db', db]);
      expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(message);
      expect(r.err.startsWith(`squash: ${db}: `), argv.join(' ')).toBe(true);
      noStack(r.err);
      expect(listing(), argv.join(' ')).toEqual(before);
      expect(bytes(), argv.join(' ')).toEqual(was);
    }
    const doctor = await squash(['doctor', '--db', db]);
    expect(doctor.code).toBe(1);
    expect(doctor.out).toMatch(/^squash doctor: .*\n- .+\n( {4}to do: .+\n)?1 problem\n$/);
  });

  it('a database of an older Squash: readers name `squash upgrade`; doctor says the same', async () => {
    const { db } = copy();
    sql(db, (c) => c.prepare("DELETE FROM _squash_migrations WHERE name = '0005_run_views'").run());
    const r = await squash(['report', 'ok', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /written by an older Squash \(pending migrations 0005_run_views\); run `squash upgrade --db /,
    );
    const doctor = await squash(['doctor', '--db', db]);
    expect(doctor.code).toBe(1);
    expect(doctor.out).toMatch(/older Squash .*squash upgrade/);
  });
});

// As root, permissions are not enforced: the commands run as user 65534 (nobody), which needs to
// read this checkout (a clone in a private temp directory is not readable by others).
const RUN_AS = IS_ROOT ? 65_534 : undefined;
const CAN_RUN_AS =
  RUN_AS === undefined ||
  spawnSync(process.execPath, [BIN, '--help'], { uid: RUN_AS, gid: RUN_AS, env: ENV, encoding: 'utf8' }).status === 0;
if (!CAN_RUN_AS) console.warn(`read-only database tests skipped: user ${RUN_AS} cannot run ${BIN}`);

describe.skipIf(process.platform === 'win32' || !CAN_RUN_AS)('read-only databases', () => {
  const as = RUN_AS;

  it('a read-only file: reports read it; a run refuses before starting, naming the file', () => {
    const { dir, db } = copy();
    chmodSync(dir, 0o777);
    chmodSync(join(dir, 'results'), 0o777);
    chmodSync(db, 0o444);
    const report = spawnSquash(['report', 'ok', '--db', db], { uid: as });
    expect(report.code, report.err).toBe(0);
    expect(report.out).toMatch(/quantize-weights\(bits=4\)/);
    const run = spawnSquash(['run', 'ok.yaml', '--db', db, '--force'], { cwd: dir, uid: as });
    expect(run.code).toBe(2);
    expect(run.err).toBe(
      `squash: ${db}: the database file is not writable (EACCES) (make it writable, or use another --db)\n`,
    );
  });

  it('a read-only directory: a reader says SQLite needs to write beside the file; a run refuses', () => {
    const { dir, db } = copy();
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'results'), 0o555);
    const report = spawnSquash(['report', 'ok', '--db', db], { uid: as });
    expect(report.code).toBe(2);
    expect(report.err).toMatch(
      /: cannot read the database: its directory is read-only \(SQLite needs to create the -shm/,
    );
    const run = spawnSquash(['run', 'ok.yaml', '--db', db], { cwd: dir, uid: as });
    expect(run.code).toBe(2);
    expect(run.err).toMatch(
      /: the database file is not writable \(EACCES\)|: the directory of the database is not writable/,
    );
    noStack(report.err + run.err);
  });
});

/** Runs `fn` with a tmpfs of `size` mounted at a new directory, if this machine lets us mount one. */
function mountTmpfs(size: string): string | undefined {
  const at = mkdtempSync(join(tmpdir(), 'squash-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at], { encoding: 'utf8' });
  return r.status === 0 ? at : undefined;
}
const umount = (at: string) => spawnSync('umount', [at]);

const probe = IS_ROOT ? mountTmpfs('64k') : undefined;
if (probe) umount(probe);
const SKIP_DISK_FULL = probe
  ? ''
  : `cannot mount a tmpfs here (${IS_ROOT ? 'mount refused' : 'not root'}): disk-full tests skipped`;
if (SKIP_DISK_FULL) console.warn(`damaged.test.ts: ${SKIP_DISK_FULL}`);

describe.skipIf(!!SKIP_DISK_FULL)('a full disk (a small tmpfs holds the database, cache and artifacts)', () => {
  const mounts: string[] = [];
  afterAll(() => mounts.forEach(umount));
  const disk = (size: string) => {
    const at = mountTmpfs(size)!;
    mounts.push(at);
    return at;
  };
  const grid = (bits: string) =>
    EXPERIMENT.replace('units: 8', 'units: 32')
      .replace('bits: [8, 4]', `bits: ${bits}`)
      .replace('retention: 0.5', 'retention: [0.9, 0.5]');
  const strays = (dir: string) => spawnSync('find', [dir, '-name', '*.tmp-*'], { encoding: 'utf8' }).stdout.trim();

  it('mid-sweep: stops with what is stored and the command that resumes; the database stays whole; the resume does the rest', () => {
    const at = disk('1m');
    writeFileSync(join(at, 'grid.yaml'), grid('[8, 7, 6, 5, 4, 3, 2]'));
    const first = spawnSquash(['run', 'grid.yaml', '--db', 'r/squash.db', '--quiet'], { cwd: at });
    expect(first.code).toBe(1);
    noStack(first.err);
    expect(first.err).toMatch(
      /^squash: .*(disk full|disk I\/O error).* \(the sweep stopped; \d+ of 14 trials are stored FINISHED in .*r\/squash\.db; free some space, then `squash run grid\.yaml --db r\/squash\.db` runs the rest\)\n$/,
    );
    expect(strays(at)).toBe('');
    spawnSync('mount', ['-o', 'remount,size=16m', at]);
    expect(sql(join(at, 'r/squash.db'), (c) => c.pragma('integrity_check', { simple: true }))).toBe('ok');
    const resume = spawnSquash(['run', 'grid.yaml', '--db', 'r/squash.db', '--quiet'], { cwd: at });
    expect(resume.code, resume.err).toBe(0);
    const runs = sql(join(at, 'r/squash.db'), (c) =>
      c.prepare("SELECT trial_id FROM runs WHERE status = 'FINISHED' AND is_baseline = 0").pluck().all(),
    );
    expect(runs).toHaveLength(14);
    expect(new Set(runs).size).toBe(14);
    expect(spawnSquash(['doctor', '--db', 'r/squash.db'], { cwd: at }).code).toBe(0);
  });

  it('before a run, and while caching a baseline: a clear message, nothing half-written, a rerun after freeing space works', () => {
    const at = disk('2m');
    writeFileSync(join(at, 'big.yaml'), grid('[8, 4]').replace('units: 32', 'units: 256'));
    writeFileSync(join(at, 'filler'), Buffer.alloc(2 * 1024 * 1024 - 4096));
    const full = spawnSquash(['run', 'big.yaml', '--quiet'], { cwd: at });
    expect(full.code).toBe(1);
    noStack(full.err);
    expect(full.err).toMatch(/^squash: .*(disk full|ENOSPC|disk I\/O error)/);
    // Room for the database, not for the trained model (~800 KB).
    rmSync(join(at, 'filler'));
    rmSync(join(at, 'results'), { recursive: true, force: true });
    writeFileSync(join(at, 'filler'), Buffer.alloc(2 * 1024 * 1024 - 400 * 1024));
    const baseline = spawnSquash(['run', 'big.yaml', '--quiet'], { cwd: at });
    expect(baseline.code).toBe(1);
    noStack(baseline.err);
    expect(baseline.err).toMatch(
      /cache\/baselines\/\w+: saving the trained model: ENOSPC: disk full \(the sweep stopped; 0 of 4 trials/,
    );
    expect(strays(at)).toBe('');
    rmSync(join(at, 'filler'));
    spawnSync('mount', ['-o', 'remount,size=16m', at]);
    const rerun = spawnSquash(['run', 'big.yaml', '--quiet'], { cwd: at });
    expect(rerun.code, rerun.err).toBe(0);
  });
});

describe('damaged caches, stray temp files and runs left RUNNING', () => {
  it('a damaged cached pipeline state is recomputed: the same numbers, no tfjs error', async () => {
    const { dir, db, file } = copy();
    const states = join(dir, 'results/cache/states');
    const [entry] = readdirSync(states);
    writeFileSync(join(states, entry!, 'state.bin'), 'garbage');
    const rows = async () =>
      (await squash(['query', '--db', db, '--format', 'csv', '--columns', 'label, metrics.accuracy'])).out
        .trim()
        .split(/\r?\n/)
        .slice(1);
    const before = await rows();
    const r = await squash(['run', file, '--db', db, '--force', '--quiet', '--backend', 'wasm']);
    expect(r.code, r.err).toBe(0);
    // Every trial twice now (--force), the rerun with the accuracy it had.
    const trials = before.filter((l) => !l.startsWith('baseline'));
    expect(trials).toHaveLength(2);
    expect((await rows()).sort()).toEqual([...before, ...trials].sort());
    expect(readdirSync(states)).toEqual([entry]);
    expect((await squash(['doctor', '--db', db])).code).toBe(0);
  });

  it('doctor finds stray temp files, damaged cache entries and dead RUNNING runs; --repair fixes them; then healthy', async () => {
    const { dir, db } = copy();
    const before = readFileSync(db);
    const stray = join(dir, 'results/artifacts', `abc.sqz.tmp-${DEAD_PID}`);
    writeFileSync(stray, 'half a file');
    const anHourAgo = new Date(Date.now() - 3600_000);
    utimesSync(stray, anHourAgo, anHourAgo);
    const baselines = join(dir, 'results/cache/baselines');
    const [baseline] = readdirSync(baselines);
    writeFileSync(join(baselines, baseline!, 'weights.bin'), 'truncated');
    const healthy = await squash(['doctor', '--db', db]);
    expect(healthy.code).toBe(1);
    expect(healthy.out).toContain(
      `- stray temp file ${stray} (process ${DEAD_PID} is not running)\n    to repair: squash doctor --repair`,
    );
    expect(healthy.out).toMatch(
      /- damaged cache entry .*baselines\/\w+: weights\.bin has 9 bytes, model\.json lists \d+\n/,
    );
    expect(healthy.out).toMatch(/\n2 problems\n$/);
    expect(readFileSync(db).equals(before)).toBe(true);

    // A run whose process died without a word.
    sql(db, (c) =>
      c
        .prepare(
          "UPDATE runs SET status = 'RUNNING', pid = ?, ended_at = NULL WHERE rowid = (SELECT MAX(rowid) FROM runs)",
        )
        .run(DEAD_PID),
    );
    const repair = await squash(['doctor', '--db', db, '--repair']);
    expect(repair.code, repair.out).toBe(0);
    expect(repair.out).toMatch(
      /is RUNNING, but process 4194304 on .* stopped without finishing .*\n {4}repaired: marked KILLED/,
    );
    expect(repair.out).toMatch(/\n3 problems: 3 repaired, 0 remain\n$/);
    expect(readdirSync(join(dir, 'results/artifacts')).some((f) => f.includes('.tmp-'))).toBe(false);
    const again = await squash(['doctor', '--db', db]);
    expect(again).toMatchObject({ code: 0, out: expect.stringMatching(/\nhealthy: /) });
  });

  it('doctor without a database says where it looked (exit 2)', async () => {
    const r = await squash(['doctor', '--db', join(tmpdir(), 'no-such-dir', 'squash.db')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no database at .*no-such-dir\/squash\.db; nothing to check \(pass --db\)/);
  });
});
