import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Metric } from '@squash/contract';
import { loadDataset, type Split } from '@squash/datasets';
import { idxBytes as idx } from '@squash/datasets/writers';
import { SqliteStore } from '@squash/store';
import { beforeAll, describe, expect, it } from 'vitest';
import { decoderBundle } from './decoder_bundle.js';
import { squashInProcess as squash } from './__tests__/in_process.js';
import { BIN, ENV, STACK, workspace } from './__tests__/processes.js';

// A bias-free MLP, so that every tensor of an 8-bit symmetric trial lies on a uint8 grid.
const EXPERIMENT = `name: exp
model:
  name: mlp
  layers:
    - { type: flatten }
    - { type: dense, units: 16, activation: relu, useBias: false }
    - { type: dense, units: 10, activation: softmax, useBias: false }
dataset: { name: mnist, limits: { train: 1000, test: 400 } }
train: { epochs: 2 }
sweeps:
  - name: bits
    stages:
      - quantize-weights: { bits: 8 }
  - name: kmeans
    stages:
      - quantize-weights: { scheme: kmeans, bits: 3 }
  - name: act
    stages:
      - quantize-activations: { bits: 3 }
`;

let dir = '';
let db = '';
let test: Split;
const trial: Record<string, { trialId: string; runId: string; accuracy: number; artifact: string }> = {};

beforeAll(async () => {
  process.env.SQUASH_BACKEND = 'wasm';
  dir = workspace(EXPERIMENT);
  db = join(dir, 'results', 'squash.db');
  const r = spawnSync(process.execPath, [BIN, 'run', 'e.yaml', '--quiet'], { cwd: dir, env: ENV, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const store = SqliteStore.openReadOnly(db);
  for (const run of store.listRuns('exp'))
    if (!run.isBaseline)
      trial[run.sweep] = {
        trialId: run.trialId,
        runId: run.id,
        accuracy: run.metrics[Metric.accuracy]!,
        artifact: run.artifacts.model!.path,
      };
  store.close();
  test = (await loadDataset({ name: 'mnist', limits: { train: 1000, test: 400 } })).test;
});

/** `squash export …` in the workspace (paths relative to it). */
const exportRun = (id: string, format: string, out: string, extra: string[] = []) =>
  squash(['export', id, '--format', format, '--out', join(dir, out), '--db', db, ...extra]);

/** The accuracy the command printed, as correct-of-count. */
function printed(out: string): { correct: number; count: number; recorded?: number } {
  const line = out.split('\n').find((l) => l.startsWith("accuracy on the run's test split"))!;
  const [, correct, count] = /: [\d.]+ % \((\d+) of (\d+)\);/.exec(line)!;
  const recorded = /recorded [\d.]+ % \((\d+) of/.exec(line)?.[1];
  return { correct: Number(correct), count: Number(count), recorded: recorded ? Number(recorded) : undefined };
}

/** Stock TensorFlow.js on the files as written: model.json, its shards by the manifest's paths, fromMemory. */
async function stockAccuracy(outDir: string): Promise<number> {
  const json = JSON.parse(readFileSync(join(outDir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const groups = json.weightsManifest;
  const shards = groups.flatMap((g) => g.paths).map((p) => readFileSync(join(outDir, p)));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: groups.flatMap((g) => g.weights),
      weightData: new Uint8Array(Buffer.concat(shards)).buffer,
    }),
  );
  const predicted = tf.tidy(() =>
    tf.argMax(model.predict(tf.tensor(test.x, [test.count, 28, 28])) as tf.Tensor, -1).dataSync(),
  );
  model.dispose();
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (predicted[i] === test.y[i]) correct++;
  return correct;
}

describe('squash export to stock TensorFlow.js', () => {
  it.each(['tfjs', 'tfjs-uint8', 'tfjs-uint16', 'tfjs-float16'])(
    '%s: files stock tfjs loads, scoring the accuracy the command printed',
    async (format) => {
      for (const sweep of ['bits', 'kmeans']) {
        const out = `${sweep}-${format}`;
        const r = await exportRun(trial[sweep]!.trialId, format, out);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toMatch(new RegExp(`^exported run ${trial[sweep]!.runId} \\(exp: .*\\) as ${format} to `));
        expect(r.out).toMatch(/sha256 matches the one recorded when it was written/);
        expect(readdirSync(join(dir, out)).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
        const bytes = (f: string) => readFileSync(join(dir, out, f)).length;
        expect(r.out).toContain(`group1-shard1of1.bin  ${String(bytes('group1-shard1of1.bin')).padStart(10)} bytes`);
        const shown = printed(r.out);
        expect(shown.count).toBe(400);
        expect(await stockAccuracy(join(dir, out))).toBe(shown.correct);
        expect(shown.recorded).toBe(Math.round(trial[sweep]!.accuracy * 400));
        if (format === 'tfjs') expect(shown.correct, sweep).toBe(shown.recorded);
      }
    },
  );

  it('uint8 of a symmetric 8-bit trial is lossless: every tensor exact, exactly the recorded accuracy', async () => {
    const r = await exportRun(trial.bits!.runId, 'tfjs-uint8', 'lossless');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^weights \(uint8\): 2 tensors, 2 exact$/m);
    expect(r.out).toMatch(/^ {2}dense_1\/kernel\s+784×16\s+exact$/m);
    const shown = printed(r.out);
    expect(shown.correct).toBe(shown.recorded);
    expect(r.out).toMatch(/recorded [\d.]+ % \(\d+ of 400\), the same$/m);
    const json = JSON.parse(readFileSync(join(dir, 'lossless', 'model.json'), 'utf8'));
    expect(json.convertedBy).toMatch(/^squash /);
    expect(json.weightsManifest[0].weights[0].quantization).toMatchObject({ dtype: 'uint8' });
    // k-means centroids lie on no uint8 grid: said per tensor, with the error.
    const k = await exportRun(trial.kmeans!.trialId, 'tfjs-uint8', 'kmeans-lossy');
    expect(k.out).toMatch(/^ {2}dense_1\/kernel\s+784×16\s+lossy, max abs error [\d.e-]+$/m);
  });

  it('says plainly that activation quantization is dropped, and measures what the files score', async () => {
    const r = await exportRun(trial.act!.trialId, 'tfjs', 'act');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /^activation quantization: DROPPED — stock TensorFlow\.js has no layer for it.*dense_1: 3 bits/m,
    );
    expect(await stockAccuracy(join(dir, 'act'))).toBe(printed(r.out).correct);
    expect((await exportRun(trial.bits!.trialId, 'tfjs', 'no-act')).out).toMatch(
      /^activation quantization: none in this trial$/m,
    );
  });
});

describe('squash export --format sqz', () => {
  // TODO(i16-format): the decoder bundle (@squash/sqz/sqz.min.js + bundle.json) is built on another
  // branch; until it is here, only the error for its absence can be checked.
  it.runIf(decoderBundle() !== undefined)('writes the artifact as model.sqz and the decoder bundle', async () => {
    const r = await exportRun(trial.act!.trialId, 'sqz', 'sqz');
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(dir, 'sqz', 'model.sqz'))).toEqual(readFileSync(trial.act!.artifact));
    expect(readFileSync(join(dir, 'sqz', 'sqz.min.js'))).toEqual(readFileSync(decoderBundle()!.file));
    expect(r.out).toMatch(/^activation quantization: kept/m);
    const shown = printed(r.out);
    expect(shown.correct).toBe(shown.recorded);
  });

  it.runIf(decoderBundle() === undefined)(
    'without the decoder bundle: exit 2, saying so, nothing written',
    async () => {
      const r = await exportRun(trial.act!.trialId, 'sqz', 'sqz-missing');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/the @squash\/sqz decoder bundle \(sqz\.min\.js, with bundle\.json\) is not installed/);
      expect(existsSync(join(dir, 'sqz-missing'))).toBe(false);
    },
  );
});

/** Runs `fn` with the artifact of a trial changed, and puts it back. */
async function withArtifact<T>(path: string, change: (bytes: Buffer) => Buffer | undefined, fn: () => Promise<T>) {
  const original = readFileSync(path);
  const changed = change(Buffer.from(original));
  if (changed) writeFileSync(path, changed);
  else renameSync(path, `${path}.away`);
  try {
    return await fn();
  } finally {
    if (!changed) renameSync(`${path}.away`, path);
    writeFileSync(path, original);
  }
}

/** Edits the database as it is, rebuilding the views of the runs it touches. */
function edit(sql: string, ...args: unknown[]): void {
  const raw = new Database(db);
  raw.prepare(sql).run(...args);
  raw.close();
  const store = SqliteStore.open(db);
  store.rebuildViews(store.listRuns('exp').map((r) => r.id));
  store.close();
}

describe('squash export: bad input is exit 2 with a message, no stack trace, nothing written', () => {
  const expectRefused = (r: { code: number; err: string }, out: string, message: RegExp) => {
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(STACK);
    expect(existsSync(join(dir, out))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  };

  it('an unknown id names the nearest ids and how to list them', async () => {
    const near = `${trial.bits!.trialId.slice(0, -1)}${trial.bits!.trialId.endsWith('0') ? '1' : '0'}`;
    expectRefused(
      await exportRun(near, 'tfjs', 'x'),
      'x',
      new RegExp(
        `no run or trial with id '${near}'; the nearest ids: trial ${trial.bits!.trialId} \\(quantize-weights\\(bits=8\\)\\).*squash ls lists the experiments`,
      ),
    );
    expectRefused(await exportRun('zzzz', 'tfjs', 'x'), 'x', /no run or trial with id 'zzzz' \(squash ls/);
  });

  it('a run that is not FINISHED, by run id or by trial id, says its status', async () => {
    const store = SqliteStore.open(db);
    const experimentId = store.ensureExperiment('exp', '');
    const failed = store.createRun({
      experimentId,
      trialId: 'f00dfeedf00dfeed',
      sweep: 'bits',
      label: 'quantize-weights(bits=2)',
      isBaseline: false,
      seed: 1,
      backend: 'wasm',
      config: {},
    });
    store.setStatus(failed, 'FAILED', 'Error: out of memory\n    at somewhere');
    store.close();
    expectRefused(
      await exportRun(failed, 'tfjs', 'x'),
      'x',
      new RegExp(
        `run ${failed} is FAILED, not FINISHED: it wrote no model to export \\(squash show .* shows its error\\)`,
      ),
    );
    expectRefused(
      await exportRun('f00dfeed', 'tfjs', 'x'),
      'x',
      new RegExp(`trial f00dfeedf00dfeed has no FINISHED run: its latest run, ${failed}, is FAILED`),
    );
  });

  it('a baseline is refused, saying where its tfjs files already are', async () => {
    const store = SqliteStore.openReadOnly(db);
    const base = store.listRuns('exp').find((r) => r.isBaseline)!;
    store.close();
    expectRefused(
      await exportRun(base.id, 'tfjs', 'x'),
      'x',
      /is a baseline: its trained model is already TensorFlow\.js files/,
    );
  });

  it('a missing artifact file', async () => {
    const r = await withArtifact(
      trial.bits!.artifact,
      () => undefined,
      () => exportRun(trial.bits!.trialId, 'tfjs', 'x'),
    );
    expectRefused(r, 'x', /\.sqz: the artifact of run \w+ is missing \(\d+ bytes when written\)/);
  });

  it('an altered artifact: its sha256 differs from the one recorded when it was written', async () => {
    const r = await withArtifact(
      trial.bits!.artifact,
      (b) => ((b[b.length - 1] ^= 1), b),
      () => exportRun(trial.bits!.trialId, 'tfjs', 'x'),
    );
    expectRefused(
      r,
      'x',
      /the artifact of run \w+ was altered since the run wrote it: its sha256 is [0-9a-f]{64}, recorded [0-9a-f]{64}/,
    );
  });

  it('a run recorded before checksums: the file must parse (and keep its size); the output says no checksum was recorded', async () => {
    edit('UPDATE artifacts SET sha256 = NULL WHERE run_id = ?', trial.kmeans!.runId);
    const ok = await exportRun(trial.kmeans!.runId, 'tfjs', 'old');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(
      /no checksum was recorded for this run \(written before checksums were\); its size matches and it parses/,
    );
    const corrupt = await withArtifact(
      trial.kmeans!.artifact,
      (b) => ((b[0] ^= 0xff), b),
      () => exportRun(trial.kmeans!.runId, 'tfjs', 'x'),
    );
    expectRefused(corrupt, 'x', /\.sqz: the artifact of run \w+ does not read as a Squash model: /);
    const shorter = await withArtifact(
      trial.kmeans!.artifact,
      (b) => b.subarray(0, b.length - 1),
      () => exportRun(trial.kmeans!.runId, 'tfjs', 'x'),
    );
    expectRefused(shorter, 'x', /was altered since the run wrote it: it has \d+ bytes, recorded \d+/);
  });

  it('a bad --format, a missing one, an --out that is a file or not empty', async () => {
    expectRefused(
      await exportRun(trial.bits!.trialId, 'tfjs-int4', 'x'),
      'x',
      /argument 'tfjs-int4' is invalid\. Allowed choices are tfjs, tfjs-uint8, tfjs-uint16, tfjs-float16, sqz/,
    );
    expectRefused(
      await squash(['export', trial.bits!.trialId, '--out', join(dir, 'x'), '--db', db]),
      'x',
      /required option '--format <format>' not specified/,
    );
    mkdirSync(join(dir, 'full'));
    writeFileSync(join(dir, 'full', 'keep.txt'), 'mine');
    const full = await exportRun(trial.bits!.trialId, 'tfjs', 'full');
    expect(full.code).toBe(2);
    expect(full.err).toMatch(/--out: .*full is not empty \(1 entry: keep\.txt\); give a new or empty directory/);
    expect(readdirSync(join(dir, 'full'))).toEqual(['keep.txt']);
    const file = await exportRun(trial.bits!.trialId, 'tfjs', 'e.yaml');
    expect(file.code).toBe(2);
    expect(file.err).toMatch(/--out: .*e\.yaml is a file; give a new or empty directory/);
    // An empty directory is filled.
    mkdirSync(join(dir, 'empty'));
    expect((await exportRun(trial.bits!.trialId, 'tfjs', 'empty')).code).toBe(0);
    expect(readdirSync(join(dir, 'empty')).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
  });
});

describe('download sizes in show and report', () => {
  it("show lists a trial's sizes; a run recorded before them shows —", async () => {
    const store = SqliteStore.openReadOnly(db);
    const run = store.getRun(trial.bits!.runId);
    store.close();
    const r = await squash(['show', trial.bits!.runId, '--db', db]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^download sizes \(bytes; gzip: each file at level 9; /m);
    expect(r.out).toMatch(new RegExp(`^tfjs float32\\s+${run.metrics[Metric.tfjsBytes]}$`, 'm'));
    expect(r.out).toMatch(new RegExp(`^tfjs-uint8\\s+${run.metrics[Metric.tfjsUint8Bytes]}$`, 'm'));
    expect(r.out).toMatch(new RegExp(`^gzip float32\\s+${run.metrics[Metric.tfjsGzipBytes]}$`, 'm'));
    expect(r.out).toMatch(new RegExp(`^gzip uint8\\s+${run.metrics[Metric.tfjsUint8GzipBytes]}$`, 'm'));
    expect(r.out).toMatch(new RegExp(`^\\.sqz\\s+${run.metrics[Metric.artifactBytes]}$`, 'm'));
    // The float32 files of this trial are what export writes, byte for byte.
    const written = ['model.json', 'group1-shard1of1.bin'].reduce(
      (n, f) => n + readFileSync(join(dir, 'bits-tfjs', f)).length,
      0,
    );
    expect(run.metrics[Metric.tfjsBytes]).toBe(written);

    edit("DELETE FROM metrics WHERE run_id = ? AND key LIKE 'tfjs%'", trial.act!.runId);
    const old = await squash(['show', trial.act!.runId, '--db', db]);
    expect(old.out).toMatch(/^tfjs float32\s+—$/m);
    expect(old.out).toMatch(/^\.sqz\s+\d+$/m);
    const json = await squash(['show', trial.act!.runId, '--db', db, '--format', 'json']);
    expect(json.out).toContain('{"key":"tfjs float32","value":null}');
  });

  it('the report prints the download-size table under the comparison', async () => {
    const r = await squash(['report', 'exp', '--db', db]);
    expect(r.code, r.err).toBe(0);
    const table = r.out.slice(r.out.indexOf('download sizes (KB;'));
    expect(table).toMatch(
      /sweep\s+trial\s+tfjs float32\s+tfjs-uint8\s+gzip float32\s+gzip uint8\s+\.sqz\s+\.sqz \+ decoder/,
    );
    expect(table).toMatch(
      /^bits\s+quantize-weights\(bits=8\)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(—|[\d.]+)$/m,
    );
    const csv = await squash(['report', 'exp', '--db', db, '--format', 'csv']);
    expect(csv.out).not.toContain('download sizes');
  });
});

describe('squash export measures on the files the run read', () => {
  /** 4×4 images of two classes (bright top or bottom half). */
  function writeIdx(data: string): void {
    mkdirSync(data, { recursive: true });
    const split = (n: number) => {
      const y = Array.from({ length: n }, (_, i) => i % 2);
      const x = y.flatMap((c, i) => Array.from({ length: 16 }, (_, p) => (p < 8 === (c === 0) ? 200 : 30) + (i % 7)));
      return [idx([n, 4, 4], x), idx([n], y)] as const;
    };
    const [trainX, trainY] = split(40);
    const [testX, testY] = split(12);
    writeFileSync(join(data, 'train-images-idx3-ubyte'), trainX);
    writeFileSync(join(data, 'train-labels-idx1-ubyte'), trainY);
    writeFileSync(join(data, 't10k-images-idx3-ubyte'), testX);
    writeFileSync(join(data, 't10k-labels-idx1-ubyte'), testY);
  }

  it('paths relative to the experiment file as given to squash run, normalized as then; edited files are refused', async () => {
    const ws = workspace(`name: digits
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 2, activation: softmax }] }
dataset: { name: idx, path: data, normalize: global }
train: { epochs: 1, batchSize: 8 }
sweeps:
  - name: q
    stages:
      - quantize-weights: { bits: 8 }
`);
    writeIdx(join(ws, 'data'));
    const spawnIn = (args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args], { cwd: ws, env: ENV, encoding: 'utf8' });
    expect(spawnIn(['run', 'e.yaml', '--quiet']).status).toBe(0);
    const store = SqliteStore.openReadOnly(join(ws, 'results', 'squash.db'));
    const run = store.listRuns('digits').find((r) => !r.isBaseline)!;
    store.close();

    // Where squash run ran: the same data, the same preprocessing, the recorded accuracy.
    const here = spawnIn(['export', run.trialId, '--format', 'tfjs', '--out', 'out']);
    expect(here.status, here.stderr).toBe(0);
    expect(here.stdout).toMatch(/\(\d+ of 12\); recorded [\d.]+ % \(\d+ of 12\), the same$/m);

    // Elsewhere, e.yaml names no file: said, with where to run it.
    const db = join(ws, 'results', 'squash.db');
    const elsewhere = await squash(['export', run.trialId, '--format', 'tfjs', '--out', join(ws, 'x'), '--db', db]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.err).toMatch(
      /cannot load the dataset run \w+ used \(paths relative to e\.yaml, as given to squash run\): .*\(run squash export from the directory squash run ran in\)/,
    );
    expect(existsSync(join(ws, 'x'))).toBe(false);

    // Edited since: its accuracy would not compare.
    writeFileSync(
      join(ws, 'data', 't10k-labels-idx1-ubyte'),
      idx(
        [12],
        Array.from({ length: 12 }, () => 1),
      ),
    );
    const edited = spawnIn(['export', run.trialId, '--format', 'tfjs', '--out', 'y']);
    expect(edited.status).toBe(2);
    expect(edited.stderr).toMatch(
      /dataset data changed since run \w+ read it \(content [0-9a-f]{12}, recorded [0-9a-f]{12}\)/,
    );
    expect(edited.stderr).not.toMatch(STACK);
    expect(existsSync(join(ws, 'y'))).toBe(false);
  });
});
