import { describe, expect, it } from 'vitest';
import { SpecError, SQUASH_VERSION, stableHash } from '@squash/core';
import { baselineId, planTrials, trialId, trialLabel } from './plan.js';
import { parseSpec } from './spec/parse.js';
import type { Experiment } from './spec/types.js';

function parsed(text: string): Experiment {
  const { experiment, errors } = parseSpec(text, 'plan.yaml');
  expect(errors.map((e) => e.describe())).toEqual([]);
  return experiment!;
}

const spec = (sweeps: string, seeds = '[1]') =>
  parsed(`name: e
model: article-mlp
dataset: { name: synthetic }
seeds: ${seeds}
sweeps:
${sweeps}`);

/** lenet-300-100 has three weight layers: dense_1, dense_2, dense_3. */
const lenet = (body: string) =>
  parsed(`name: e
model: lenet-300-100
dataset: { name: synthetic }
${body}`);

const labels = (exp: Experiment) => planTrials(exp).map((t) => trialLabel(t.stages));

describe('grid expansion', () => {
  it('is the cartesian product, first axis slowest', () => {
    expect(
      labels(
        spec(`  - name: s
    stages:
      - prune-weights: { retention: [0.5, 0.2] }
      - quantize-weights: { bits: [8, 6, 4] }
`),
      ),
    ).toEqual([
      'prune-weights(retention=0.5) → quantize-weights(bits=8)',
      'prune-weights(retention=0.5) → quantize-weights(bits=6)',
      'prune-weights(retention=0.5) → quantize-weights(bits=4)',
      'prune-weights(retention=0.2) → quantize-weights(bits=8)',
      'prune-weights(retention=0.2) → quantize-weights(bits=6)',
      'prune-weights(retention=0.2) → quantize-weights(bits=4)',
    ]);
    expect(labels(spec(`  - name: s\n    stages:\n      - huffman: {}\n`))).toEqual(['huffman']);
  });
});

describe('planTrials', () => {
  it('crosses every axis of a pipeline and every seed', () => {
    const exp = spec(
      `  - name: pq
    stages:
      - prune-weights: { retention: [0.5, 0.2, 0.1] }
      - quantize-weights: { bits: [8, 4] }
`,
      '[1, 2]',
    );
    const trials = planTrials(exp);
    expect(trials).toHaveLength(12);
    expect(new Set(trials.map((t) => t.id)).size).toBe(12);
    expect(new Set(trials.map((t) => t.baselineId)).size).toBe(2);
    expect(trials[0]!.stages).toEqual([
      { compressor: 'prune-weights', params: { retention: 0.5 } },
      { compressor: 'quantize-weights', params: { bits: 8 } },
    ]);
    expect(trialLabel(trials[1]!.stages)).toBe('prune-weights(retention=0.5) → quantize-weights(bits=4)');
  });

  it('gives a trial the same id in another file and sweep, and lists a shared point once', () => {
    const a = planTrials(
      spec(`  - name: one
    stages:
      - quantize-weights: { bits: [8, 4] }
  - name: two
    stages:
      - quantize-weights: { bits: 4 }
`),
    );
    expect(a).toHaveLength(2);
    const b = planTrials(
      spec(`  - name: other
    stages:
      - quantize-weights: { bits: 4 }
`),
    );
    expect(b[0]!.id).toBe(a[1]!.id);
  });

  it('gives a param written at its declared default the id of the param omitted', () => {
    const id = (stages: string, defaults = '') =>
      planTrials(
        parsed(`name: e
model: article-mlp
dataset: { name: synthetic }
${defaults}sweeps:
  - name: s
    stages:
${stages}`),
      )[0]!.id;
    const omitted = id('      - quantize-weights: { bits: 4 }\n');
    expect(id('      - quantize-weights: { bits: 4, scheme: symmetric }\n')).toBe(omitted);
    expect(id('      - quantize-weights: { bits: 4, scheme: symmetric, granularity: tensor }\n')).toBe(omitted);
    expect(
      id('      - quantize-weights: { bits: 4 }\n', 'defaults:\n  quantize-weights: { scheme: symmetric }\n'),
    ).toBe(omitted);
    // The id of a config that writes no default is the one it always had (stored results keep matching).
    const [t] = planTrials(spec(`  - name: s\n    stages:\n      - quantize-weights: { bits: 4 }\n`));
    expect(omitted).toBe(t!.id);
    expect(t!.id).toBe(stableHash({ kind: 'trial', squash: SQUASH_VERSION, baseline: t!.baseline, stages: t!.stages }));
    // Another value is another trial; a training stage's defaults count the same way.
    expect(id('      - quantize-weights: { bits: 4, scheme: asymmetric }\n')).not.toBe(omitted);
    const iterative = id('      - prune-iterative: { retention: 0.5, rounds: 2, epochs: 1 }\n');
    expect(id('      - prune-iterative: { retention: 0.5, rounds: 2, epochs: 1, scope: layer }\n')).toBe(iterative);
    expect(id('      - prune-iterative: { retention: 0.5, rounds: 2, epochs: 1, scope: global }\n')).not.toBe(
      iterative,
    );
  });

  it('gives an inline model with layer fields written at their default the ids of the fields omitted', () => {
    const plan = (conv: string) =>
      planTrials(
        parsed(`name: e
model:
  name: m
  layers: [${conv}, { type: flatten }, { type: dense, units: 10, activation: softmax }]
dataset: { name: synthetic }
sweeps:
  - name: s
    stages:
      - quantize-weights: { bits: 4 }
`),
      )[0]!;
    const omitted = plan('{ type: conv2d, filters: 4, kernelSize: 3 }');
    for (const written of [
      '{ type: conv2d, filters: 4, kernelSize: 3, strides: 1, padding: valid, activation: linear }',
      '{ type: conv2d, filters: 4, kernelSize: 3, strides: [1, 1] }',
    ]) {
      expect(plan(written).baselineId).toBe(omitted.baselineId);
      expect(plan(written).id).toBe(omitted.id);
    }
    expect(plan('{ type: conv2d, filters: 4, kernelSize: 3, strides: 2 }').baselineId).not.toBe(omitted.baselineId);
    expect(plan('{ type: conv2d, filters: 4, kernelSize: 3, padding: same }').baselineId).not.toBe(omitted.baselineId);
    // A spec that writes no default hashes as it always did.
    expect(omitted.baselineId).toBe(stableHash({ kind: 'baseline', squash: SQUASH_VERSION, ...omitted.baseline }));
  });

  it('keeps a default-valued per-layer override in the id: it overrides the stage', () => {
    const id = (layers: string) =>
      planTrials(
        lenet(`sweeps:
  - name: s
    stages:
      - quantize-weights: { bits: 4, scheme: kmeans${layers} }
`),
      )[0]!.id;
    expect(id(', layers: [{ match: dense_1, scheme: symmetric }]')).not.toBe(id(''));
  });

  it('changes the id when training changes', () => {
    const sweeps = `  - name: s
    stages:
      - quantize-weights: { bits: 4 }
`;
    const e1 = spec(sweeps);
    const e2 = { ...e1, train: { ...e1.train, epochs: 3 } };
    expect(planTrials(e1)[0]!.id).not.toBe(planTrials(e2)[0]!.id);
    expect(planTrials(e1)[0]!.baselineId).not.toBe(planTrials(e2)[0]!.baselineId);
  });
});

describe('grid expressions', () => {
  // [what, sweeps (under one sweep named s), exact labels in plan order]
  const cases: Array<[string, string, string[]]> = [
    [
      'an inclusive range with clean float keys',
      `prune-weights: { retention: { range: { start: 0.1, stop: 0.3, step: 0.1 } } }`,
      ['prune-weights(retention=0.1)', 'prune-weights(retention=0.2)', 'prune-weights(retention=0.3)'],
    ],
    [
      'a descending range',
      `prune-weights: { retention: { range: { start: 0.9, stop: 0.5, step: -0.2 } } }`,
      ['prune-weights(retention=0.9)', 'prune-weights(retention=0.7)', 'prune-weights(retention=0.5)'],
    ],
    [
      'an integer range',
      `quantize-weights: { bits: { range: { start: 2, stop: 8, step: 3 } } }`,
      ['quantize-weights(bits=2)', 'quantize-weights(bits=5)', 'quantize-weights(bits=8)'],
    ],
    [
      'linspace',
      `clip-weights: { threshold: { linspace: { start: 0.05, stop: 0.5, num: 4 } } }`,
      [
        'clip-weights(threshold=0.05)',
        'clip-weights(threshold=0.2)',
        'clip-weights(threshold=0.35)',
        'clip-weights(threshold=0.5)',
      ],
    ],
    [
      'logspace',
      `finetune: { epochs: 1, learningRate: { logspace: { start: -4, stop: -2, num: 3 } } }`,
      [
        'finetune(epochs=1,learningRate=0.0001)',
        'finetune(epochs=1,learningRate=0.001)',
        'finetune(epochs=1,learningRate=0.01)',
      ],
    ],
    [
      'two params of one stage crossed',
      `quantize-weights: { scheme: [symmetric, asymmetric], bits: [8, 4] }`,
      [
        'quantize-weights(scheme=symmetric,bits=8)',
        'quantize-weights(scheme=symmetric,bits=4)',
        'quantize-weights(scheme=asymmetric,bits=8)',
        'quantize-weights(scheme=asymmetric,bits=4)',
      ],
    ],
  ];
  for (const [what, stage, want] of cases) {
    it(`expands ${what}`, () => {
      expect(labels(spec(`  - name: s\n    stages:\n      - ${stage}\n`))).toEqual(want);
    });
  }

  it('zips axes element-wise and still crosses the others', () => {
    const exp = spec(`  - name: s
    stages:
      - prune-weights: { retention: [0.5, 0.2, 0.1] }
      - quantize-weights: { bits: [8, 6, 4], scheme: [symmetric, asymmetric] }
    zip: [[prune-weights.retention, quantize-weights.bits]]
`);
    expect(labels(exp)).toEqual([
      'prune-weights(retention=0.5) → quantize-weights(bits=8,scheme=symmetric)',
      'prune-weights(retention=0.5) → quantize-weights(bits=8,scheme=asymmetric)',
      'prune-weights(retention=0.2) → quantize-weights(bits=6,scheme=symmetric)',
      'prune-weights(retention=0.2) → quantize-weights(bits=6,scheme=asymmetric)',
      'prune-weights(retention=0.1) → quantize-weights(bits=4,scheme=symmetric)',
      'prune-weights(retention=0.1) → quantize-weights(bits=4,scheme=asymmetric)',
    ]);
  });

  it('excludes the points matching all values of an entry (a list: any of)', () => {
    const exp = spec(`  - name: s
    stages:
      - prune-weights: { retention: { range: { start: 0.1, stop: 0.3, step: 0.1 } } }
      - quantize-weights: { bits: [8, 2] }
    exclude:
      - { prune-weights.retention: [0.1, 0.2], quantize-weights.bits: 2 }
      - { prune-weights.retention: 0.3, quantize-weights.bits: 8 }
`);
    expect(labels(exp)).toEqual([
      'prune-weights(retention=0.1) → quantize-weights(bits=8)',
      'prune-weights(retention=0.2) → quantize-weights(bits=8)',
      'prune-weights(retention=0.3) → quantize-weights(bits=2)',
    ]);
  });

  it('runs a layer axis over every weight layer, that layer alone, layer slowest', () => {
    const trials = planTrials(
      lenet(`sweeps:
  - name: sens
    stages:
      - prune-weights: { retention: [0.5, 0.2], layers: each }
`),
    );
    expect(trials.map((t) => trialLabel(t.stages))).toEqual([
      'prune-weights(retention=0.5,layer=dense_1)',
      'prune-weights(retention=0.2,layer=dense_1)',
      'prune-weights(retention=0.5,layer=dense_2)',
      'prune-weights(retention=0.2,layer=dense_2)',
      'prune-weights(retention=0.5,layer=dense_3)',
      'prune-weights(retention=0.2,layer=dense_3)',
    ]);
    expect(trials[2]!.stages[0]).toEqual({
      compressor: 'prune-weights',
      params: { retention: 0.5 },
      layer: 'dense_2',
      layers: [{ match: 'dense_2' }, { match: '*', skip: true }],
    });
  });

  it('gives a layer-axis trial the id of the same overrides written by hand', () => {
    const each = planTrials(
      lenet(`sweeps:
  - name: a
    stages:
      - prune-weights: { retention: 0.5, layers: each }
`),
    );
    const byHand = planTrials(
      lenet(`sweeps:
  - name: b
    stages:
      - prune-weights: { retention: 0.5, layers: [{ match: dense_3 }, { match: '*', skip: true }] }
`),
    );
    expect(each[2]!.id).toBe(byHand[0]!.id);
  });

  it('zips and excludes the layer axis like any other', () => {
    const exp = lenet(`sweeps:
  - name: s
    stages:
      - prune-weights: { retention: [0.5, 0.3, 0.1], layers: each }
    zip: [[prune-weights.layer, prune-weights.retention]]
    exclude: [{ prune-weights.layer: dense_2 }]
`);
    expect(labels(exp)).toEqual([
      'prune-weights(retention=0.5,layer=dense_1)',
      'prune-weights(retention=0.1,layer=dense_3)',
    ]);
  });

  it('merges defaults under every sweep, the sweep winning', () => {
    const exp = parsed(`name: e
model: article-mlp
dataset: { name: synthetic }
defaults:
  finetune: { epochs: 2, learningRate: 0.0001 }
  quantize-weights: { granularity: channel }
sweeps:
  - name: a
    stages:
      - quantize-weights: { bits: 4 }
      - finetune: {}
  - name: b
    stages:
      - quantize-weights: { bits: 4, granularity: tensor }
      - finetune: { epochs: [5, 10] }
`);
    expect(labels(exp)).toEqual([
      'quantize-weights(bits=4,granularity=channel) → finetune(epochs=2,learningRate=0.0001)',
      'quantize-weights(bits=4,granularity=tensor) → finetune(epochs=5,learningRate=0.0001)',
      'quantize-weights(bits=4,granularity=tensor) → finetune(epochs=10,learningRate=0.0001)',
    ]);
  });

  it('names axes of a repeated stage by index', () => {
    const exp = spec(`  - name: s
    stages:
      - finetune: { epochs: [1, 2] }
      - quantize-weights: { bits: [8, 4] }
      - finetune: { epochs: [3, 4] }
    zip: [[0.epochs, 2.epochs]]
    exclude: [{ 0.epochs: 2, quantize-weights.bits: 4 }]
`);
    expect(labels(exp)).toEqual([
      'finetune(epochs=1) → quantize-weights(bits=8) → finetune(epochs=3)',
      'finetune(epochs=1) → quantize-weights(bits=4) → finetune(epochs=3)',
      'finetune(epochs=2) → quantize-weights(bits=8) → finetune(epochs=4)',
    ]);
  });

  it('turns repeats: N into seeds 1..N, one baseline each', () => {
    const exp = parsed(`name: e
model: article-mlp
dataset: { name: synthetic }
repeats: 3
sweeps:
  - name: s
    stages:
      - quantize-weights: { bits: [8, 4] }
`);
    expect(exp.seeds).toEqual([1, 2, 3]);
    const trials = planTrials(exp);
    expect(trials).toHaveLength(6);
    expect(new Set(trials.map((t) => t.baselineId)).size).toBe(3);
  });

  it('plans the same trials whichever way a grid is written', () => {
    const list = planTrials(spec(`  - name: s\n    stages:\n      - prune-weights: { retention: [0.1, 0.2, 0.3] }\n`));
    const range = planTrials(
      spec(
        `  - name: s\n    stages:\n      - prune-weights: { retention: { range: { start: 0.1, stop: 0.3, step: 0.1 } } }\n`,
      ),
    );
    const lin = planTrials(
      spec(
        `  - name: s\n    stages:\n      - prune-weights: { retention: { linspace: { start: 0.1, stop: 0.3, num: 3 } } }\n`,
      ),
    );
    expect(range.map((t) => t.id)).toEqual(list.map((t) => t.id));
    expect(lin.map((t) => t.id)).toEqual(list.map((t) => t.id));
  });

  it('hashes the Squash version into trial and baseline ids', () => {
    const [t] = planTrials(spec(`  - name: s\n    stages:\n      - quantize-weights: { bits: 4 }\n`));
    expect(t!.id).toBe(stableHash({ kind: 'trial', squash: SQUASH_VERSION, baseline: t!.baseline, stages: t!.stages }));
    expect(t!.baselineId).toBe(stableHash({ kind: 'baseline', squash: SQUASH_VERSION, ...t!.baseline }));
    expect(trialId(t!.baseline, t!.stages)).toBe(t!.id);
    expect(baselineId(t!.baseline)).toBe(t!.baselineId);
  });

  it('throws every problem of an experiment that skipped the parser', () => {
    const parsed = spec(`  - name: s\n    stages:\n      - quantize-weights: { bits: 4 }\n`);
    const exp: Experiment = { ...parsed, sweeps: [] };
    exp.sweeps = [
      {
        name: 'bad',
        stages: [{ 'prune-weights': { retention: [0.5, 0.2] } }, { 'quantize-weights': { bits: [8] } }],
        zip: [['prune-weights.retention', 'quantize-weights.bits']],
        exclude: [{ 'x.y': 1 }],
      },
    ];
    expect(() => planTrials(exp)).toThrow(SpecError);
    try {
      planTrials(exp);
    } catch (e) {
      expect((e as SpecError).problems.map((p) => p.describe())).toEqual([
        'plan.yaml: sweeps[0].zip[0]: zipped axes must have equal lengths: prune-weights.retention has 2, quantize-weights.bits has 1',
        "plan.yaml: sweeps[0].exclude[0].x.y: unknown axis 'x.y': no stage 'x' in this sweep (axes: prune-weights.retention, quantize-weights.bits)",
      ]);
    }
  });
});
