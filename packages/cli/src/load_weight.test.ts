import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Metric } from '@squash/contract';
import { loadExperimentFile, planTrials } from '@squash/runner/spec';
import { SqliteStore } from '@squash/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Package weight, checked in the module loader of a fresh Node process: every module it resolves
 * (an ESM resolve hook registered with `--import`) and every CommonJS module in `require.cache`
 * when it exits. The pure packages and the CLI's read commands must load no `@tensorflow/*`.
 */
const CLI = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(CLI, 'dist', 'bin.js');
const TFJS = /[\\/]node_modules[\\/]@tensorflow[\\/]/;

const dir = mkdtempSync(join(tmpdir(), 'squash-load-weight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LOG_HOOKS = join(dir, 'hooks.mjs');
const REGISTER = join(dir, 'register.mjs');
writeFileSync(
  LOG_HOOKS,
  `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(log, 'esm ' + resolved.url + '\\n');
  return resolved;
}
`,
);
writeFileSync(
  REGISTER,
  `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
const log = process.env.SQUASH_LOAD_LOG;
register(${JSON.stringify(new URL(`file://${LOG_HOOKS}`).href)}, { data: { log } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(log, Object.keys(cache).map((f) => 'cjs ' + f + '\\n').join('')));
`,
);

let logs = 0;
/** Runs node with the recording hooks; returns what it loaded and how it ended. */
function loaded(args: string[]): { modules: string[]; code: number | null; out: string; err: string } {
  const log = join(dir, `load-${++logs}.log`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', REGISTER, ...args], {
    cwd: CLI,
    encoding: 'utf8',
    env: { ...process.env, SQUASH_LOAD_LOG: log, SQUASH_BACKEND: 'wasm' },
  });
  const modules = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { modules, code: r.status, out: r.stdout, err: r.stderr };
}

const importing = (pkg: string) => loaded(['--input-type=module', '-e', `await import(${JSON.stringify(pkg)});`]);
const tfjsOf = (modules: string[]) => modules.filter((m) => TFJS.test(m));

describe('packages by weight: importing loads no TensorFlow.js', () => {
  it('the recording sees TensorFlow.js where it is loaded: @squash/trainer (control)', () => {
    const r = importing('@squash/trainer');
    expect(r.code, r.err).toBe(0);
    expect(r.modules.some((m) => m.startsWith('esm ') && TFJS.test(m))).toBe(true);
    expect(r.modules.some((m) => m.startsWith('cjs ') && TFJS.test(m))).toBe(true);
  });

  it.each([
    '@squash/contract',
    '@squash/core',
    '@squash/compressors',
    '@squash/store',
    '@squash/runner/spec',
    '@squash/reporter',
    '@squash/datasets',
    '@squash/trainer/specs',
  ])('%s', (pkg) => {
    const r = importing(pkg);
    expect(r.code, r.err).toBe(0);
    expect(
      r.modules.some((m) => m.includes('/packages/')),
      'the hooks recorded the import',
    ).toBe(true);
    expect(tfjsOf(r.modules)).toEqual([]);
  });
});

const EXPERIMENT = `name: light
model: lenet-300-100
dataset: { name: synthetic }
sweeps:
  - name: bits
    stages:
      - quantize-weights: { bits: [8, 4] }
`;

describe('the CLI read commands load no TensorFlow.js (a small real database)', () => {
  const db = join(dir, 'squash.db');
  const file = join(dir, 'light.yaml');
  let runId = '';

  beforeAll(() => {
    writeFileSync(file, EXPERIMENT);
    const trials = planTrials(loadExperimentFile(file));
    const store = SqliteStore.open(db);
    const experimentId = store.ensureExperiment('light', 'load-weight fixture');
    const run = (trialId: string, isBaseline: boolean, accuracy: number, bytes: number) => {
      const id = store.createRun({
        experimentId,
        trialId,
        sweep: isBaseline ? 'baseline' : 'bits',
        label: isBaseline ? 'baseline' : trialId,
        isBaseline,
        seed: 1,
        backend: 'wasm',
        config: {},
      });
      store.finishRun(id, {
        params: isBaseline ? { model: 'lenet-300-100', epochs: 10, seed: 1 } : { seed: 1 },
        metrics: [
          { key: Metric.accuracy, value: accuracy },
          { key: Metric.artifactBytes, value: bytes },
        ],
      });
      return id;
    };
    runId = run(trials[0]!.baselineId, true, 0.98, 1_066_000);
    trials.forEach((t, i) => run(t.id, false, 0.97 - i / 100, 266_000 / (i + 1)));
    store.close();
  });

  it.each([
    ['report <experiment>', () => ['report', 'light', '--db', db]],
    ['report <experiment.yaml>', () => ['report', file, '--db', db]],
    ['query', () => ['query', `metrics.${Metric.accuracy} > 0.5`, '--db', db]],
    ['ls', () => ['ls', '--db', db]],
    ['show <run id>', () => ['show', runId, '--db', db]],
  ])('%s', (_, args) => {
    const r = loaded([BIN, ...args()]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.length).toBeGreaterThan(0);
    expect(
      r.modules.some((m) => m.includes('/packages/store/')),
      'the hooks recorded the command',
    ).toBe(true);
    expect(tfjsOf(r.modules)).toEqual([]);
  });
});
