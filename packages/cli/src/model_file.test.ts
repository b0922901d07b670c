import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ENV, STACK, workspace } from './__tests__/processes.js';

const EXPERIMENT = `name: mine
model: { path: mine/model.json }
dataset: { name: synthetic, samples: { train: 200, test: 100 } }
sweeps:
  - name: grid
    stages:
      - prune-weights: { retention: [0.5] }
`;

type Json = Record<string, unknown>;
const layer = (class_name: string, config: Json) => ({ class_name, config });
/** A valid file as tfjs writes it: flatten → dense 10 softmax on 28×28×1 images. */
function modelJson(edit: (m: { topology: Json[]; weights: Json[]; paths: string[] }) => void = () => {}): string {
  const m = {
    topology: [
      layer('Flatten', { name: 'flat', batch_input_shape: [null, 28, 28, 1] }),
      layer('Dense', { name: 'out', units: 10, activation: 'softmax', use_bias: true }),
    ],
    weights: [
      { name: 'out/kernel', shape: [784, 10], dtype: 'float32' },
      { name: 'out/bias', shape: [10], dtype: 'float32' },
    ] as Json[],
    paths: ['weights.bin'],
  };
  edit(m);
  return JSON.stringify({
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name: 'm', layers: m.topology } },
    weightsManifest: [{ paths: m.paths, weights: m.weights }],
  });
}
const WEIGHTS = Buffer.alloc(4 * (784 * 10 + 10));
/** Zeros for every weight the manifest lists, so a case breaks only what it means to. */
function bytesFor(json: string | undefined): Buffer {
  if (json === undefined) return WEIGHTS;
  let parsed: { weightsManifest: Array<{ weights: Array<{ shape: number[] }> }> };
  try {
    parsed = JSON.parse(json);
  } catch {
    return WEIGHTS;
  }
  const floats = parsed.weightsManifest[0]!.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  return Buffer.alloc(4 * floats);
}

const BROKEN: Array<{ name: string; json?: string; bin?: Buffer | null; message: RegExp }> = [
  {
    name: 'a path that does not exist',
    json: undefined,
    message: /mine\/model\.json.*(not found|does not exist|no such)/i,
  },
  { name: 'not JSON', json: '{ "format": "layers-model", ', message: /mine\/model\.json.*JSON/ },
  { name: 'a missing shard', bin: null, message: /weights\.bin/ },
  { name: 'a shard of the wrong length', bin: Buffer.alloc(100), message: /100 bytes.*31400|31400.*100/ },
  {
    name: 'an unknown layer class',
    json: modelJson((m) => m.topology.splice(1, 0, layer('LSTM', { name: 'rnn', units: 4 }))),
    message: /rnn.*LSTM.*(supported|expected one of).*Dense/,
  },
  {
    name: 'a weight whose shape does not match the topology',
    json: modelJson((m) => (m.weights[0]!.shape = [700, 10])),
    message: /out\/kernel.*784/,
  },
  {
    name: 'a weight the topology lacks',
    json: modelJson((m) => m.weights.splice(1, 1)),
    message: /out\/bias/,
  },
  {
    name: 'a weight the topology does not have',
    json: modelJson((m) => m.weights.push({ name: 'ghost/kernel', shape: [2], dtype: 'float32' })),
    message: /ghost/,
  },
  {
    name: 'a dtype tfjs does not know',
    json: modelJson((m) => (m.weights[1]!.dtype = 'float8')),
    message: /float8/,
  },
  {
    name: 'a shard path leaving the model directory',
    json: modelJson((m) => (m.paths[0] = '../weights.bin')),
    message: /\.\.\/weights\.bin/,
  },
  {
    name: 'an activation Squash does not have',
    json: modelJson((m) => ((m.topology[1]!.config as Json).activation = 'mish')),
    message: /mish/,
  },
];

function workspaceWith(json: string | undefined, bin: Buffer | null | undefined): string {
  const dir = workspace(EXPERIMENT);
  if (json === undefined && bin === undefined) return dir; // no model directory at all
  mkdirSync(join(dir, 'mine'));
  writeFileSync(join(dir, 'mine', 'model.json'), json ?? modelJson());
  if (bin !== null) writeFileSync(join(dir, 'mine', 'weights.bin'), bin ?? bytesFor(json));
  return dir;
}

describe.concurrent('a broken model file: exit 2, a message naming the file and what is wrong, nothing written', () => {
  it.each(BROKEN)('$name', ({ name, json, bin, message }) => {
    const dir = name === 'a path that does not exist' ? workspaceWith(undefined, undefined) : workspaceWith(json, bin);
    const r = spawnSync(process.execPath, [BIN, 'run', 'e.yaml'], { cwd: dir, env: ENV, encoding: 'utf8' });
    expect(r.stderr).toMatch(/e\.yaml:2:\d+: model\.path: model file mine\/model\.json/);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.status).toBe(2);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it('the same file, whole, plans (the cases above fail on what they break)', () => {
    const dir = workspaceWith(undefined, WEIGHTS);
    const r = spawnSync(process.execPath, [BIN, 'run', 'e.yaml', '--dry-run'], {
      cwd: dir,
      env: ENV,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/1 trial/);
  });
});
