import { describe, expect, it } from 'vitest';
import { parseSpec } from './parse.js';
import { SYNTHETIC_EXPERIMENT } from '../__tests__/fixtures.js';

const BASE = `name: e
model: article-mlp
dataset: { name: mnist }
sweeps:
  - name: s
    stages:
      - prune-weights: { retention: [0.5, 0.2] }
`;

function errorsOf(text: string): string[] {
  return parseSpec(text, 'exp.yaml').errors.map((e) => e.describe());
}

describe('parseSpec', () => {
  it('accepts a valid file and fills defaults', () => {
    const { experiment, errors } = parseSpec(BASE, 'exp.yaml');
    expect(errors).toEqual([]);
    expect(experiment!.train).toEqual({ epochs: 10, batchSize: 32, learningRate: 0.001, validationSplit: 0 });
    expect(experiment!.seeds).toEqual([1]);
    expect(parseSpec(SYNTHETIC_EXPERIMENT).errors).toEqual([]);
  });

  // Each malformed file: the exact location and the words a user needs.
  const cases: Array<[string, string, RegExp]> = [
    ['YAML syntax error', 'name: e\nmodel: [unclosed\n', /^exp\.yaml:\d+:\d+: YAML syntax/],
    ['duplicate key', 'name: e\nname: f\n', /^exp\.yaml:2:1: YAML syntax: Map keys must be unique/],
    [
      'misspelled top-level key',
      BASE.replace('sweeps:', 'sweps:'),
      /^exp\.yaml:4:1: sweps: unknown key 'sweps'; did you mean 'sweeps'\?/,
    ],
    [
      'unknown param with suggestion',
      BASE.replace('retention:', 'retension:'),
      /exp\.yaml:7:26: sweeps\[0\]\.stages\[0\]\.prune-weights\.retension: unknown key 'retension'; did you mean 'retention'\?/,
    ],
    [
      'retention out of range in a list',
      BASE.replace('[0.5, 0.2]', '[0.5, 1.5]'),
      /exp\.yaml:7:43: sweeps\[0\]\.stages\[0\]\.prune-weights\.retention\[1\]: .*1\.5/,
    ],
    [
      'wrong type',
      BASE.replace('[0.5, 0.2]', 'half'),
      /exp\.yaml:7:37: sweeps\[0\]\.stages\[0\]\.prune-weights\.retention: expected number, list or range\/linspace\/logspace, got 'half' \(string\)/,
    ],
    [
      'unknown compressor',
      BASE.replace('prune-weights', 'prune-wieghts'),
      /exp\.yaml:7:9: sweeps\[0\]\.stages\[0\]\.prune-wieghts: unknown key 'prune-wieghts'; did you mean 'prune-weights'\?/,
    ],
    [
      'unknown model',
      BASE.replace('article-mlp', 'article-mpl'),
      /exp\.yaml:2:8: model: unknown model 'article-mpl'; did you mean 'article-mlp'\?/,
    ],
    ['unknown dataset', BASE.replace('mnist', 'imagenet'), /exp\.yaml:3:18: dataset\.name: expected one of: .*mnist/],
    [
      'empty grid axis',
      BASE.replace('[0.5, 0.2]', '[]'),
      /sweeps\[0\]\.stages\[0\]\.prune-weights\.retention: must not be empty/,
    ],
    [
      'missing required key',
      'name: e\nmodel: article-mlp\nsweeps: []\n',
      /exp\.yaml:1:1: missing required key 'dataset'/,
    ],
    [
      'bits out of range',
      BASE.replace('prune-weights: { retention: [0.5, 0.2] }', 'quantize-weights: { bits: 17 }'),
      /quantize-weights\.bits: .*17/,
    ],
    ['a list as a mapping key', 'name: e\n? [a, b]\n: 1\n', /^exp\.yaml:2:3: YAML: a key must be a plain value/],
    [
      'non-integer epochs',
      `${BASE}train: { epochs: 2.5 }\n`,
      /exp\.yaml:8:18: train\.epochs: expected integer, list or range\/linspace\/logspace, got 2\.5/,
    ],
    [
      'duplicate sweep names',
      `${BASE}  - name: s\n    stages:\n      - clip-weights: { threshold: 0.1 }\n`,
      /exp\.yaml:8:11: sweeps\[1\]\.name: duplicate sweep name 's'/,
    ],
    [
      'two compressors in one stage',
      BASE.replace('{ retention: [0.5, 0.2] }', '{ retention: 0.5 }\n        clip-weights: { threshold: 0.1 }'),
      /stages\[0\]: a stage must have exactly one key/,
    ],
    [
      'override matching no layer',
      BASE.replace('{ retention: [0.5, 0.2] }', '{ retention: 0.5, layers: [{ match: dense_9, retention: 0.1 }] }'),
      /sweeps\[0\]\.stages\[0\]\.prune-weights\.layers\[0\]\.match: 'dense_9' matches no layer of the model; did you mean 'dense_1'\?/,
    ],
    [
      'override out of range',
      BASE.replace('{ retention: [0.5, 0.2] }', '{ retention: 0.5, layers: [{ match: dense_1, retention: 2 }] }'),
      /layers\[0\]\.retention: must be <= 1, got 2/,
    ],
    [
      'override with unknown key',
      BASE.replace('{ retention: [0.5, 0.2] }', '{ retention: 0.5, layers: [{ match: dense_1, retension: 0.1 }] }'),
      /layers\[0\]\.retension: unknown key 'retension'; did you mean 'retention'\?/,
    ],
    [
      'topology change after a weight stage',
      BASE.replace(
        '      - prune-weights: { retention: [0.5, 0.2] }',
        '      - prune-weights: { retention: 0.5 }\n      - prune-units: { retention: 0.5 }',
      ),
      /stages\[1\]: 'prune-units' replaces the model, so it must come before 'prune-weights'/,
    ],
    [
      'unknown student model',
      BASE.replace('      - prune-weights: { retention: [0.5, 0.2] }', '      - distill: { student: tiny, epochs: 1 }'),
      /distill\.student: unknown model 'tiny'/,
    ],
    [
      'bits not allowed for a scheme',
      BASE.replace('prune-weights: { retention: [0.5, 0.2] }', 'quantize-weights: { scheme: binary, bits: 4 }'),
      /quantize-weights\.bits: bits must be 1 for scheme 'binary', got 4/,
    ],
    [
      'unknown training-stage param',
      BASE.replace('      - prune-weights: { retention: [0.5, 0.2] }', '      - finetune: { epoch: 1 }'),
      /finetune\.epoch: unknown key 'epoch'; did you mean 'epochs'\?/,
    ],
  ];
  for (const [what, text, pattern] of cases) {
    it(`reports ${what}`, () => {
      const errors = errorsOf(text);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.join('\n')).toMatch(pattern);
    });
  }

  it('reports every problem at once', () => {
    const text = `${BASE.replace('mnist', 'imagenet').replace('retention:', 'retentio:')}train: { epochz: 3 }\n`;
    const errors = errorsOf(text);
    expect(errors.length).toBe(3);
  });
});
