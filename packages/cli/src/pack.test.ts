/**
 * What a user installs, installed the way a user would: scripts/pack.mjs packs @squash/cli,
 * @squash/sqz and the workspace packages they need, and plain `npm install <tarballs…>` puts them
 * into empty directories outside the repository, every third-party package from the registry
 * (the one thing this test needs from outside: without it the install tests skip and say so).
 * There the installed `squash` trains a small MNIST experiment and exports it, and a Node script
 * decodes a `.sqz` with nothing but @squash/sqz and @tensorflow/tfjs beside it.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeArtifact } from '@squash/compressors';
import type { Tensor } from '@tensorflow/tfjs';
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
if (OFFLINE) console.warn(`pack.test.ts: ${OFFLINE}: the pack and install tests are skipped`);

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

/**
 * Run where @squash/sqz was installed beside tfjs, as a user's Node script would: reads model.sqz,
 * decodes it to a LayersModel and predicts INPUT, on tfjs' cpu backend.
 */
const DECODE_SQZ = `import { readFileSync } from 'node:fs';
import * as format from '@squash/sqz/format';
import * as sqz from '@squash/sqz';
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');
const bytes = new Uint8Array(readFileSync('model.sqz'));
const file = format.readSqz(bytes);
let truncated = 'read without an error';
try {
  sqz.decodeSqz(bytes.subarray(0, bytes.length - 1));
} catch (e) {
  truncated = (e instanceof format.SqzError ? 'SqzError' : e.constructor.name) + ': ' + e.message;
}
const { model, info } = sqz.decodeSqz(bytes);
const input = JSON.parse(readFileSync('input.json', 'utf8'));
const output = model.predict(tf.tensor(input.values, input.shape));
console.log(JSON.stringify({
  tensors: file.tensors.map((t) => t.name),
  info,
  layers: model.layers.map((l) => l.getClassName()),
  predictions: Array.from(output.dataSync()),
  truncated,
  tfjs: tf.version.tfjs,
}));
`;

/** A model with every part decodeSqz rebuilds: flatten, dense layers, activation fake quantization. */
const MODEL = {
  format: 'squash-model',
  spec: {
    name: 'pack-test',
    layers: [
      { type: 'flatten' },
      { type: 'dense', units: 5, activation: 'relu' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
  },
  inputShape: [2, 2],
  activations: { dense_1: { bits: 4, min: 0, max: 2 } },
};
const INPUT = { shape: [6, 2, 2], values: Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) / 5 - 1) };
/** Weights in [-1, 1], a fixed sequence: `<layer>/<role>` as the header's spec names them. */
function weights(): { name: string; shape: number[]; values: Float32Array }[] {
  let x = 1;
  const next = () => ((x = (x * 48271) % 2147483647) / 2147483647) * 2 - 1;
  return [
    { name: 'dense_1/kernel', shape: [4, 5] },
    { name: 'dense_1/bias', shape: [5] },
    { name: 'dense_2/kernel', shape: [5, 3] },
    { name: 'dense_2/bias', shape: [3] },
  ].map((w) => ({ ...w, values: Float32Array.from({ length: w.shape.reduce((a, b) => a * b) }, next) }));
}

/** `name` and the packed packages it needs, transitively: what installing it from tarballs takes. */
function closure(name: string): string[] {
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    const { dependencies, peerDependencies } = packed.get(n)!.manifest;
    for (const dep of Object.keys({ ...dependencies, ...peerDependencies })) if (packed.has(dep)) visit(dep);
  };
  visit(name);
  return [...seen];
}

let work: string;
/** Every packed package by name: its tarball, files and manifest. */
let packed: Map<string, { tarball: string; files: Set<string>; manifest: Manifest }>;
if (OFFLINE) it.skip(`npm pack, and npm install of the tarballs: skipped, ${OFFLINE}`, () => {});

describe.skipIf(!!OFFLINE)('npm pack', () => {
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
  // About 700 MB in 20,000 files once installed (TensorFlow.js alone is 270 MB): removing them took up
  // to a minute on this project's disk (mounted with discard) while other suites ran.
  afterAll(() => rmSync(work, { recursive: true, force: true }), 10 * MINUTE);

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

  describe('installed with npm into an empty directory', () => {
    it(
      '@squash/sqz beside @tensorflow/tfjs decodes a .sqz in plain Node ESM, as the workspace does',
      async () => {
        const dir = join(work, 'sqz');
        const sqz = closure('@squash/sqz').map((name) => packed.get(name)!.tarball);
        npmInstall(dir, [...sqz, '@tensorflow/tfjs@4.22.0']);
        const layers = weights();
        const { bytes } = writeArtifact(
          MODEL,
          layers.map(({ name, shape, values }) => ({ name, shape, encoding: { kind: 'float32', values } })),
        );
        writeFileSync(join(dir, 'model.sqz'), bytes);
        writeFileSync(join(dir, 'input.json'), JSON.stringify(INPUT));
        writeFileSync(join(dir, 'decode.mjs'), DECODE_SQZ);
        const got = JSON.parse(check(run(process.execPath, ['decode.mjs'], dir), 'node decode.mjs'));

        // The same bytes through the workspace's own decoder: the installed package must agree exactly.
        const tf = await import('@tensorflow/tfjs');
        await tf.setBackend('cpu');
        const { decodeSqz } = await import('@squash/sqz');
        const { model } = decodeSqz(bytes);
        const want = Array.from((model.predict(tf.tensor(INPUT.values, INPUT.shape)) as Tensor).dataSync());

        expect(got.tensors).toEqual(layers.map((l) => l.name));
        expect(got.info).toEqual(MODEL);
        expect(got.layers).toEqual(['Flatten', 'Dense', 'SquashFakeQuant', 'Dense']);
        expect(got.predictions).toEqual(want);
        expect(got.predictions).toHaveLength(18);
        expect(got.truncated).toMatch(/^SqzError: /);
        expect(got.tfjs).toBe('4.22.0');
      },
      15 * MINUTE,
    );

    it(
      'the CLI: --version, run of a 1-epoch MNIST experiment, doctor, ls, export sqz and tfjs-uint8',
      () => {
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

        // The decoder's size, from the installed @squash/sqz's bundle.json.
        expect(ran.stdout).toMatch(/decoder: the @squash\/sqz bundle, \d+ bytes min\+gzip/);
        const query = check(
          run(squash, ['query', "attributes.sweep = 'bits'", '--format', 'json'], dir),
          'squash query',
        );
        const runId = (JSON.parse(query) as { rows: { run_id: string }[] }).rows[0]!.run_id;
        const sqz = check(run(squash, ['export', runId, '--format', 'sqz', '--out', 'sqz'], dir), 'squash export sqz');
        // export decodes what it wrote with the installed @squash/sqz and predicts the run's test split.
        expect(sqz).toMatch(/decodeSqz, model\.predict, backend \w+\): ([\d.]+ %) \(\d+ of 500\); recorded \1/);
        expect(readdirSync(join(dir, 'sqz')).sort()).toEqual(['model.sqz', 'sqz.min.js']);
        const uint8 = check(
          run(squash, ['export', runId, '--format', 'tfjs-uint8', '--out', 'u8'], dir),
          'export uint8',
        );
        expect(uint8).toMatch(/stock tf\.loadLayersModel, model\.predict, backend \w+\): [\d.]+ % \(\d+ of 500\)/);
        expect(readdirSync(join(dir, 'u8')).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
      },
      15 * MINUTE,
    );
  });
});
