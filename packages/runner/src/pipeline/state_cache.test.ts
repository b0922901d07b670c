import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileError } from '@squash/core';
import { buildModel, getWeights, type ModelSpec } from '@squash/trainer';
import { tempDir } from '../__tests__/fixtures.js';
import type { PipelineState } from './state.js';
import { checkState, loadState, saveState } from './state_cache.js';

const SPEC: ModelSpec = {
  name: 'm',
  layers: [{ type: 'flatten' }, { type: 'dense', units: 4, activation: 'relu' }, { type: 'dense', units: 3 }],
};
const SHAPE = [2, 2, 1];

function state(): PipelineState {
  const model = buildModel(SPEC, SHAPE, 7);
  const kernel = getWeights(model)[0]!;
  return {
    spec: SPEC,
    model,
    masks: new Map([[kernel.name, Uint8Array.from(kernel.values, (_, i) => i % 2)]]),
    quantized: new Map(),
    activations: new Map(),
    huffman: false,
    indexBits: 5,
    history: [{ epoch: 1, loss: 0.5, accuracy: 0.5, seconds: 1, samplesPerSecond: 100 }],
    trainSeconds: 1,
  };
}

/** A cached entry written by saveState, and the weights it holds. */
function saved() {
  const dir = join(tempDir('squash-states-'), 'states', 'k1');
  const s = state();
  saveState(dir, s, SHAPE);
  return { dir, weights: getWeights(s.model).map((w) => Array.from(w.values)) };
}

describe('cached pipeline states', () => {
  it('load back exactly what was saved, and check whole', () => {
    const { dir, weights } = saved();
    expect(checkState(dir)).toBeUndefined();
    const back = loadState(dir)!;
    expect(getWeights(back.model).map((w) => Array.from(w.values))).toEqual(weights);
    expect([...back.masks.values()][0]!.length).toBe(16);
    expect(back.history).toEqual([{ epoch: 1, loss: 0.5, accuracy: 0.5, seconds: 1, samplesPerSecond: 100 }]);
  });

  const damage: Array<[string, (dir: string) => void, RegExp]> = [
    [
      'a truncated state.bin',
      (d) => writeFileSync(join(d, 'state.bin'), readFileSync(join(d, 'state.bin')).subarray(0, 10)),
      /state\.bin has 10 bytes/,
    ],
    [
      'a flipped byte in state.bin',
      (d) => {
        const b = readFileSync(join(d, 'state.bin'));
        b[3] ^= 0xff;
        writeFileSync(join(d, 'state.bin'), b);
      },
      /does not match its checksum/,
    ],
    ['garbage in state.json', (d) => writeFileSync(join(d, 'state.json'), '{"format": 2, "spe'), /unreadable/],
    ['a missing state.bin', (d) => rmSync(join(d, 'state.bin')), /unreadable/],
    [
      'an entry of an older format',
      (d) => {
        const m = JSON.parse(readFileSync(join(d, 'state.json'), 'utf8'));
        delete m.format;
        writeFileSync(join(d, 'state.json'), JSON.stringify(m));
      },
      /not of this Squash's format/,
    ],
    [
      'a section outside state.bin (checksum and all rewritten)',
      (d) => {
        const m = JSON.parse(readFileSync(join(d, 'state.json'), 'utf8'));
        m.weights[0].length = 1e6;
        writeFileSync(join(d, 'state.json'), JSON.stringify(m));
      },
      /outside state\.bin/,
    ],
    [
      'weights that do not fit the model',
      (d) => {
        const m = JSON.parse(readFileSync(join(d, 'state.json'), 'utf8'));
        m.weights[0].shape = [3, 4];
        writeFileSync(join(d, 'state.json'), JSON.stringify(m));
      },
      /^$/,
    ],
  ];

  it.each(damage)('%s: is found, ignored and removed (computed again), never thrown', (_, harm, problem) => {
    const { dir } = saved();
    harm(dir);
    expect(checkState(dir) ?? '').toMatch(problem);
    expect(loadState(dir)).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    // The next save writes it whole again.
    saveState(dir, state(), SHAPE);
    expect(checkState(dir)).toBeUndefined();
  });

  it('a failed write leaves no temp directory and says which entry', () => {
    const root = tempDir('squash-states-');
    writeFileSync(join(root, 'states'), 'a file where the directory belongs');
    let err: unknown;
    try {
      saveState(join(root, 'states', 'k1'), state(), SHAPE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).describe()).toMatch(/states\/k1: caching a pipeline state: ENOTDIR/);
    expect(readdirSync(root)).toEqual(['states']);
  });
});
