import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  stableHash,
  createRng,
  createRegistry,
  ConfigError,
  SpecError,
  StoreError,
  formatLocation,
  didYouMean,
  editDistance,
} from './index.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
  it('normalises -0 and refuses non-finite numbers', () => {
    expect(canonicalJson({ x: -0 })).toBe('{"x":0}');
    expect(() => canonicalJson({ x: NaN })).toThrow(/non-finite number at \$\.x/);
  });
  it('hashes equal configs equally regardless of key order', () => {
    expect(stableHash({ a: 1, b: [2, 3] })).toBe(stableHash({ b: [2, 3], a: 1 }));
    expect(stableHash({ a: 1 })).not.toBe(stableHash({ a: 2 }));
    expect(stableHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('createRng', () => {
  it('is reproducible from the seed and differs across seeds', () => {
    const a = createRng(42),
      b = createRng(42),
      c = createRng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(sa).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(sa).not.toEqual(Array.from({ length: 5 }, () => c.next()));
    for (const x of sa) expect(x >= 0 && x < 1).toBe(true);
  });
  it('shuffles into a permutation', () => {
    const a = createRng(1).shuffle(Int32Array.from({ length: 100 }, (_, i) => i));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...a]).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
  it('draws normals with mean ≈ 0 and variance ≈ 1', () => {
    const r = createRng(7);
    let s = 0,
      s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });
});

describe('errors and registry', () => {
  it('formats file:line:col: path', () => {
    expect(formatLocation({ file: 'a.yaml', line: 3, column: 5, path: 'train.epochs' })).toBe(
      'a.yaml:3:5: train.epochs:',
    );
    const e = new SpecError([new ConfigError('bad', { location: { file: 'x.yaml', line: 1 } })]);
    expect(e.exitCode).toBe(2);
    expect(e.describe()).toBe('x.yaml:1: bad');
  });
  it('names the database file of a store error, exit 2 unless told otherwise', () => {
    const e = new StoreError('database disk image is malformed', {
      location: { file: 'results/x.db' },
      hint: 'not a usable Squash database',
    });
    expect(e.describe()).toBe('results/x.db: database disk image is malformed (not a usable Squash database)');
    expect(e.exitCode).toBe(2);
    expect(new StoreError('disk full', {}, 1).exitCode).toBe(1);
  });
  it('lists known names on an unknown lookup', () => {
    const r = createRegistry<number>('model');
    r.register('mlp', 1);
    expect(() => r.register('mlp', 2)).toThrow(/already registered/);
    expect(() => r.get('cnn')).toThrow("unknown model 'cnn'; known: mlp");
  });
});

describe('didYouMean', () => {
  it('suggests close names only', () => {
    expect(didYouMean('retension', ['retention', 'bits'])).toBe('retention');
    expect(didYouMean('epoch', ['epochs', 'batchSize'])).toBe('epochs');
    expect(didYouMean('zzz', ['retention', 'bits'])).toBeUndefined();
  });
});

describe('editDistance / didYouMean', () => {
  it('computes Levenshtein distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('bits', 'bits')).toBe(0);
  });
  it('suggests only close names', () => {
    expect(didYouMean('bit', ['bits'])).toBe('bits');
    expect(didYouMean('treshold', ['threshold', 'value'])).toBe('threshold');
    expect(didYouMean('xyz', ['bits'])).toBeUndefined();
    expect(didYouMean('v', ['value'])).toBeUndefined();
  });
});
