import { describe, expect, it } from 'vitest';
import { parseSpec } from '../spec/parse.js';

const HEAD = `name: s
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 8, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 200, test: 50 } }
train: { epochs: 1, validationSplit: 0.2 }
`;

const search = (body: string) => `${HEAD}search:\n${body}`;
const PIPELINE = `  pipeline:
    - prune-weights: { retention: { per-layer: { min: 0.1, max: 0.9 } } }
    - quantize-weights: { bits: { per-layer: [4, 8] } }
`;

const problems = (text: string) => parseSpec(text, 'e.yaml').errors.map((e) => e.describe());

describe('search: in an experiment file', () => {
  it('parses a search beside no sweeps, defaults filled, constraints parsed', () => {
    const { experiment, errors } = parseSpec(
      search(
        `  name: small\n  objective: { minimize: artifact_bytes }\n  constraints: ['accuracy >= baseline.accuracy - 0.01']\n${PIPELINE}`,
      ),
      'e.yaml',
    );
    expect(errors).toEqual([]);
    expect(experiment!.sweeps).toEqual([]);
    const [s] = experiment!.searches;
    expect(s).toMatchObject({ name: 'small', strategy: 'sensitivity', batch: 4, budget: { trials: 40 }, seed: 1 });
    expect(s!.objective.weights).toEqual({ artifact_bytes: 1 });
    expect(s!.constraints[0]!.op).toBe('>=');
  });

  it('locates constraint errors at their column in the file (quoted or plain)', () => {
    const text = search(
      `  name: small\n  objective: { minimize: artifact_bytes }\n  constraints:\n    - 'accuracy >= baseline.acuracy - 0.01'\n    - accuracy >= 1.5\n    - accuracy >=\n${PIPELINE}`,
    );
    expect(problems(text)).toEqual([
      expect.stringMatching(
        /^e\.yaml:9:29: search\.constraints\[0\]: unknown metric 'acuracy'; did you mean 'accuracy'/,
      ),
      expect.stringMatching(/^e\.yaml:10:7: search\.constraints\[1\]: can never hold: accuracy lies in \[0, 1\]/),
      expect.stringMatching(/^e\.yaml:11:18: search\.constraints\[2\]: expected a metric/),
    ]);
  });

  it('names an unknown objective metric and impossible space bounds', () => {
    const text = search(`  name: small
  objective: { maximize: acc }
  pipeline:
    - prune-weights: { retention: { per-layer: { min: 0.9, max: 0.1 } } }
`);
    expect(problems(text)).toEqual([
      expect.stringMatching(/^e\.yaml:7:26: search\.objective\.maximize: unknown metric 'acc'/),
      expect.stringMatching(
        /^e\.yaml:9:48: search\.pipeline\[0\]\.prune-weights\.retention\.per-layer: impossible bounds: min 0\.9 must be below max 0\.1/,
      ),
    ]);
  });

  it('checks the ends of every space with the stage’s own rules', () => {
    const text = search(`  name: small
  objective: { minimize: artifact_bytes }
  pipeline:
    - prune-weights: { retention: { min: 0.5, max: 1.5 } }
    - quantize-weights: { bits: { per-layer: [0, 4] } }
`);
    const p = problems(text);
    expect(p).toHaveLength(2);
    expect(p[0]).toMatch(
      /^e\.yaml:9:35: search\.pipeline\[0\]\.prune-weights\.retention: retention must be in \(0, 1\], got 1\.5/,
    );
    expect(p[1]).toMatch(
      /^e\.yaml:10:46: search\.pipeline\[1\]\.quantize-weights\.bits\.per-layer: bits must be in \[1, 16\], got 0/,
    );
  });

  it('needs a validation split for accuracy, one seed, and a known strategy', () => {
    const text = `${HEAD.replace('validationSplit: 0.2', 'epochs: 1').replace('epochs: 1, epochs: 1', 'epochs: 1')}seeds: [1, 2]
search:
  name: small
  objective: { minimize: artifact_bytes }
  constraints: ['accuracy >= 0.5']
  strategy: tpe
${PIPELINE}`;
    const p = problems(text);
    expect(p.some((m) => /strategy: expected one of: sensitivity, random; got 'tpe'/.test(m))).toBe(true);
  });

  it('refuses a search without a validation split, and on several seeds', () => {
    const text = `${HEAD.replace(', validationSplit: 0.2', '')}seeds: [1, 2]
search:
  name: small
  objective: { minimize: artifact_bytes }
  constraints: ['accuracy >= 0.5']
${PIPELINE}`;
    expect(problems(text)).toEqual([
      expect.stringMatching(/^e\.yaml:5:8: seeds: a search runs on one baseline; seeds has 2/),
      expect.stringMatching(
        /^e\.yaml:9:17: search\.constraints\[0\]: a search checks accuracy and loss on a validation split/,
      ),
    ]);
  });

  it('wants sweeps or a search, and a search name no sweep has', () => {
    expect(problems(HEAD)).toEqual([expect.stringMatching(/missing required key 'sweeps' \(or 'search'\)/)]);
    const text = `${HEAD}sweeps:\n  - name: small\n    stages: [{ prune-weights: { retention: 0.5 } }]\nsearch:\n  name: small\n  objective: { minimize: artifact_bytes }\n${PIPELINE}`;
    expect(problems(text)).toEqual([expect.stringMatching(/search name 'small' is already a sweep's name/)]);
  });

  it('the sensitivity strategy refuses per-layer spaces it cannot probe', () => {
    const text = search(`  name: small
  objective: { minimize: artifact_bytes }
  pipeline:
    - prune-units: { retention: { per-layer: [0.5, 0.75] } }
`);
    expect(problems(text)).toEqual([expect.stringMatching(/cannot probe 'prune-units\.retention' per layer/)]);
    expect(problems(text.replace('  pipeline:', '  strategy: random\n  pipeline:'))).toEqual([]);
  });
});

describe('candidates in the experiment text', () => {
  it('read back as trials of the search, however many share a written override', async () => {
    const { withCandidates, reportedTrialIds } = await import('./candidates.js');
    const text = search(`  name: small
  objective: { minimize: artifact_bytes }
  pipeline:
    - prune-weights: { retention: { per-layer: { min: 0.1, max: 0.9 } }, layers: [{ match: dense_2, skip: true }] }
`);
    const exp = parseSpec(text, 'e.yaml').experiment!;
    const skip = { match: 'dense_2', skip: true };
    const candidates = Array.from({ length: 150 }, (_, i) => ({
      search: 'small',
      stages: [
        {
          'prune-weights': {
            retention: 0.1 + i / 1000,
            layers: [{ match: 'dense_1', retention: 0.1 + i / 1000 }, skip],
          },
        },
      ],
    }));
    const derived = withCandidates(exp, candidates);
    expect(derived.sweeps).toHaveLength(150);
    expect(derived.sweeps.every((s) => s.name === 'small')).toBe(true);
    // The baseline first, then one trial per candidate.
    expect(reportedTrialIds(derived)).toHaveLength(151);
  });
});
