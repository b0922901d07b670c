/**
 * What a user installs, installed the way a user would: scripts/pack.mjs packs @squash/cli,
 * @squash/sqz and the workspace packages they need, and plain `npm install <tarballs…>` puts them
 * into empty directories outside the repository, every third-party package from the registry
 * (the one thing this test needs from outside: without it the install tests skip and say so).
 * There the installed `squash` trains a small MNIST experiment, and a Node script reads a `.sqz`
 * with nothing but @squash/sqz and @tensorflow/tfjs beside it.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeArtifact } from '@squash/compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MINUTE = 60_000;

/**
 * The environment of every npm and squash process here: the user's, without what running under
 * npm, pnpm, turbo and vitest added. Left in, `npm_config_local_prefix` and friends would point npm
 * at this repository, and PATH's node_modules/.bin directories would offer the workspace's own
 * `squash` (the root depends on @squash/cli), so a missing bin could pass unnoticed.
 */
function userEnv(): NodeJS.ProcessEnv {
  const keepNpm = /^npm_config_(registry|proxy|https_proxy|noproxy|cafile|ca|strict_ssl|nodedir)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !keepNpm.test(key)) continue;
    // CI's SQUASH_NATIVE_REQUIRED stays: there the installed addon must build too.
    if (/^(SQUASH_(?!NATIVE_REQUIRED$)|PNPM_|TURBO_|VITEST|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/.test(key)) continue;
    env[key] = value;
  }
  const path = (process.env.PATH ?? '').split(delimiter);
  const outside = path.filter((d) => !d.startsWith(ROOT) && !d.includes(`${sep}node_modules${sep}`));
  env.PATH = [dirname(process.execPath), ...outside].join(delimiter);
  // better-sqlite3 downloads a prebuilt binary from GitHub, or compiles, fetching Node's headers from
  // nodejs.org; where only the registry is reachable, node-gyp must find the headers beside Node.
  const prefix = dirname(dirname(process.execPath));
  if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
    env.npm_config_nodedir = prefix;
  }
  return env;
}
const ENV = userEnv();

/** Why the registry cannot be used, or '' when it answers. */
function registryProblem(): string {
  const r = spawnSync('npm', ['ping', '--fetch-retries=0', '--fetch-timeout=20000'], {
    encoding: 'utf8',
    env: ENV,
    timeout: MINUTE,
  });
  if (r.status === 0) return '';
  const said = `${r.stderr ?? ''}`.split('\n').find((l) => /error/i.test(l)) ?? r.error?.message ?? `exit ${r.status}`;
  return `the npm registry is unreachable (npm ping: ${said.trim()})`;
}
const OFFLINE = registryProblem();
if (OFFLINE) console.warn(`pack.test.ts: ${OFFLINE}: the install tests are skipped`);

function check(r: SpawnSyncReturns<string>, what: string): string {
  if (r.error || r.status !== 0) {
    throw new Error(`${what}: ${r.error?.message ?? `exit ${r.status}`}\n${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  }
  return r.stdout;
}

function run(command: string, args: string[], cwd: string, timeout = 5 * MINUTE, env = ENV) {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
}

/** `npm install` into `dir`, a new empty directory, with its own npm cache (so a run is not warmed by the last). */
function npmInstall(dir: string, specs: string[], env = ENV): void {
  mkdirSync(dir);
  const cache = join(dir, '..', `${basename(dir)}-npm-cache`);
  check(
    run('npm', ['install', '--no-audit', '--no-fund', '--cache', cache, ...specs], dir, 15 * MINUTE, env),
    `npm install in ${dir}`,
  );
}

/**
 * better-sqlite3's install downloads a prebuilt binary from GitHub, or else compiles SQLite, which
 * takes one to two minutes here. Where only the registry is reachable, the binary the workspace's own
 * install built (same version, same machine, same Node) stands in for the download, through
 * prebuild-install's local-prebuilds directory. A version the workspace does not have still compiles.
 */
function betterSqlitePrebuild(dir: string): NodeJS.ProcessEnv {
  const pkg = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
  const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string };
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  if (!existsSync(join(pkg, 'build', 'Release', 'better_sqlite3.node'))) return ENV;
  mkdirSync(dir);
  check(
    spawnSync('tar', ['-czf', join(dir, name), '-C', pkg, 'build/Release/better_sqlite3.node'], { encoding: 'utf8' }),
    name,
  );
  return { ...ENV, npm_config_better_sqlite3_local_prebuilds: dir };
}

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  engines?: Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** A tarball's file list (paths without the leading `package/`) and its package.json. */
function readTarball(file: string): { files: Set<string>; manifest: Manifest } {
  const list = check(spawnSync('tar', ['-tzf', file], { encoding: 'utf8' }), `tar -tzf ${file}`);
  const manifest = check(spawnSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' }), file);
  return {
    files: new Set(
      list
        .split('\n')
        .filter(Boolean)
        .map((p) => p.replace(/^package\//, '')),
    ),
    manifest: JSON.parse(manifest) as Manifest,
  };
}

/** Run in the directory where @squash/sqz was installed: what a user's Node script would do. */
const READ_SQZ = `import { readFileSync } from 'node:fs';
import * as format from '@squash/sqz/format';
import * as sqz from '@squash/sqz';
import * as tf from '@tensorflow/tfjs';

const bytes = new Uint8Array(readFileSync('model.sqz'));
const file = format.readSqz(bytes);
let truncated = 'read without an error';
try {
  format.readSqz(bytes.subarray(0, bytes.length - 1));
} catch (e) {
  truncated = (e instanceof format.SqzError ? 'SqzError' : e.constructor.name) + ': ' + e.message;
}
console.log(JSON.stringify({
  model: file.model,
  tensors: file.tensors.map((t) => ({ name: t.name, shape: t.shape, values: Array.from(t.values) })),
  reexported: sqz.readSqz === format.readSqz,
  truncated,
  tfjs: tf.version.tfjs,
}));
`;

/** Run where the CLI was installed: the names and shapes in the one trial artifact, read by @squash/sqz. */
const READ_ARTIFACT = `import { readdirSync, readFileSync } from 'node:fs';
import { readSqz } from '@squash/sqz/format';

const [name] = readdirSync('results/artifacts');
const file = readSqz(new Uint8Array(readFileSync('results/artifacts/' + name)));
console.log(JSON.stringify({ format: file.model.format, tensors: file.tensors.map((t) => t.name + ' ' + t.shape.join('x')) }));
`;

let work: string;
/** Every packed package by name: its tarball, files and manifest. */
let packed: Map<string, { tarball: string; files: Set<string>; manifest: Manifest }>;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'squash-pack-'));
  // turbo built every package this one depends on before its tests: no second build from here.
  const out = check(
    spawnSync(process.execPath, [join(ROOT, 'scripts', 'pack.mjs'), join(work, 'tarballs'), '--no-build'], {
      encoding: 'utf8',
    }),
    'scripts/pack.mjs',
  );
  packed = new Map(
    out
      .trim()
      .split('\n')
      .map((tarball) => {
        const { files, manifest } = readTarball(tarball);
        return [manifest.name, { tarball, files, manifest }];
      }),
  );
});
// About 700 MB once installed (TensorFlow.js alone is 270 MB).
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the publishable tarballs', () => {
  it('are the CLI, the decoder and what they depend on, each complete and publishable', () => {
    expect([...packed.keys()]).toEqual(expect.arrayContaining(['@squash/cli', '@squash/sqz', '@squash/native']));
    for (const [name, { files, manifest }] of packed) {
      expect(manifest.private, name).toBeUndefined();
      expect(manifest.license, name).toBe('Apache-2.0');
      expect(manifest.engines?.node, name).toBe('>=20');
      const ranges = { ...manifest.dependencies, ...manifest.peerDependencies };
      for (const [dep, range] of Object.entries(ranges)) {
        expect(range, `${name} → ${dep}`).not.toMatch(/^workspace:/);
        // Every workspace package a tarball needs is packed beside it.
        if (dep.startsWith('@squash/')) expect(packed.has(dep), `${name} needs ${dep}`).toBe(true);
      }
      const targets = [
        manifest.main,
        manifest.types,
        ...Object.values(manifest.bin ?? {}),
        ...Object.values(manifest.exports ?? {}).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e))),
      ].filter((t): t is string => !!t);
      for (const target of targets) expect(files.has(target.replace(/^\.\//, '')), `${name}: ${target}`).toBe(true);
      expect(
        [...files].filter((f) => /\.test\.|__tests__|^src\//.test(f)),
        name,
      ).toEqual([]);
    }
    expect(packed.get('@squash/cli')!.manifest.bin).toEqual({ squash: './dist/bin.js' });
    // The addon is compiled on the user's machine from the shipped sources, never shipped built.
    const native = packed.get('@squash/native')!;
    expect(native.files).toContain('csrc/kernels.cc');
    expect(native.files).toContain('scripts/build-addon.mjs');
    expect([...native.files].filter((f) => f.endsWith('.node') || f.endsWith('addon-status.json'))).toEqual([]);
    expect(native.manifest.scripts?.install).toBe('node scripts/build-addon.mjs --install');
  });
});

if (OFFLINE) {
  it.skip(`npm install of the tarballs: skipped, ${OFFLINE}`, () => {});
} else {
  describe('installed with npm into an empty directory', () => {
    it('@squash/sqz beside @tensorflow/tfjs reads a .sqz in plain Node ESM', () => {
      const dir = join(work, 'sqz');
      npmInstall(dir, [packed.get('@squash/sqz')!.tarball, '@tensorflow/tfjs@4.22.0']);
      const kernel = Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 8);
      const bias = new Float32Array([0, 0.25, 0, -1.5]);
      const { bytes } = writeArtifact({ note: 'pack test' }, [
        { name: 'dense/kernel', shape: [3, 4], encoding: { kind: 'float32', values: kernel } },
        {
          name: 'dense/bias',
          shape: [4],
          encoding: {
            kind: 'sparse-float32',
            values: bias,
            mask: Uint8Array.from(bias, (v) => +(v !== 0)),
            indexBits: 2,
          },
        },
      ]);
      writeFileSync(join(dir, 'model.sqz'), bytes);
      writeFileSync(join(dir, 'read.mjs'), READ_SQZ);
      const read = JSON.parse(check(run(process.execPath, ['read.mjs'], dir), 'node read.mjs'));
      expect(read.model).toEqual({ note: 'pack test' });
      expect(read.tensors).toEqual([
        { name: 'dense/kernel', shape: [3, 4], values: Array.from(kernel) },
        { name: 'dense/bias', shape: [4], values: Array.from(bias) },
      ]);
      expect(read.reexported).toBe(true);
      expect(read.truncated).toMatch(/^SqzError: /);
      expect(read.tfjs).toBe('4.22.0');
    });

    it.todo('@squash/sqz decodeSqz rebuilds the installed CLI’s trial as a tf.LayersModel (when decodeSqz lands)');

    it('the CLI: squash --version, run of a 1-epoch MNIST experiment, doctor, ls', () => {
      const dir = join(work, 'cli');
      npmInstall(
        dir,
        [...packed.values()].map((p) => p.tarball),
        betterSqlitePrebuild(join(work, 'prebuilds')),
      );
      const cli = packed.get('@squash/cli')!.manifest;
      // The version every run records is the published one.
      expect(check(run('npx', ['squash', '--version'], dir), 'npx squash --version').trim()).toBe(cli.version);

      // The install hook compiled the addon, or wrote down why not (then the run falls back to wasm).
      const statusFile = join(dir, 'node_modules', '@squash', 'native', 'dist', 'addon-status.json');
      expect(existsSync(statusFile), 'the @squash/native install hook did not run').toBe(true);
      const addon = JSON.parse(readFileSync(statusFile, 'utf8')) as { ok: boolean; reason: string };
      if (process.env.SQUASH_NATIVE_REQUIRED === '1')
        expect(addon, 'SQUASH_NATIVE_REQUIRED=1').toMatchObject({ ok: true });

      writeFileSync(
        join(dir, 'e.yaml'),
        `name: packed
model:
  name: tiny-mlp
  layers:
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
dataset:
  name: mnist
  limits: { train: 1000, test: 500 }
train: { epochs: 1 }
sweeps:
  - name: bits
    stages:
      - quantize-weights: { bits: [4] }
`,
      );
      const squash = join(dir, 'node_modules', '.bin', 'squash');
      const ran = run(squash, ['run', 'e.yaml'], dir);
      check(ran, 'squash run e.yaml');
      expect(ran.stderr).toMatch(addon.ok ? /backend native \(/ : /backend wasm \(/);
      expect(ran.stdout).toMatch(/quantize-weights\(bits=4\)/);

      const doctor = check(run(squash, ['doctor'], dir), 'squash doctor');
      expect(doctor).toMatch(/^healthy: /m);
      const ls = JSON.parse(check(run(squash, ['ls', '--format', 'json'], dir), 'squash ls')) as {
        rows: Record<string, unknown>[];
      };
      expect(ls.rows).toEqual([expect.objectContaining({ experiment: 'packed', runs: 2, FINISHED: 2, FAILED: 0 })]);

      // The trial's artifact, written by the installed CLI, read by the installed decoder package.
      writeFileSync(join(dir, 'read-artifact.mjs'), READ_ARTIFACT);
      const read = check(run(process.execPath, ['read-artifact.mjs'], dir), 'node read-artifact.mjs');
      expect(JSON.parse(read)).toEqual({
        format: 'squash-model',
        tensors: ['dense_1/kernel 784x16', 'dense_1/bias 16', 'dense_2/kernel 16x10', 'dense_2/bias 10'],
      });
    });
  });
}
