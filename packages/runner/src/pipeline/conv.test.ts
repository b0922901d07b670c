import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { layerCosts, loadArtifactModel, resolveModelSpec, type ModelSpec } from '@squash/trainer';
import { parseSpec } from '../spec/parse.js';
import { runExperiment } from '../execute.js';
import { SqliteStore } from '@squash/store';
import { tempDir } from '../__tests__/fixtures.js';
import type { RunView } from '@squash/store';

// 28×28 → conv 3×3×4 relu (26×26×4) → conv 3×3×6 same (26×26×6) → pool 2 (13×13×6) → dense 16 relu → dense 10.
const HEAD = `name: conv
model:
  name: tiny-conv
  layers:
    - { type: conv2d, filters: 4, kernelSize: 3, activation: relu }
    - { type: conv2d, filters: 6, kernelSize: [3, 3], padding: same }
    - { type: maxPool2d, poolSize: 2 }
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
dataset: { name: synthetic, samples: { train: 400, test: 200 } }
train: { epochs: 3, batchSize: 32, learningRate: 0.005 }
sweeps:
`;

async function run(sweeps: string, head = HEAD): Promise<{ baseline: RunView; trials: RunView[]; spec: ModelSpec }> {
  const { experiment, errors } = parseSpec(head + sweeps, 'conv.yaml');
  expect(errors.map((e) => e.describe())).toEqual([]);
  const dir = tempDir();
  const store = SqliteStore.open(join(dir, 'db.sqlite'));
  const summary = await runExperiment(experiment!, { store, cacheDir: join(dir, 'cache'), backend: 'wasm' });
  const runs = store.listRuns('conv');
  store.close();
  expect(runs.filter((r) => r.status !== 'FINISHED').map((r) => r.error)).toEqual([]);
  expect(summary.failed).toBe(0);
  return {
    baseline: runs.find((r) => r.isBaseline)!,
    trials: runs.filter((r) => !r.isBaseline),
    spec: experiment!.model as ModelSpec,
  };
}

const k = (r: RunView, layer: string, key: string) => r.metrics[`layer.${layer}/kernel.${key}`]!;

describe('a conv model through the runner (synthetic data, real training, real artifacts)', () => {
  it('prunes, k-means-quantizes, fine-tunes, removes filters and quantizes per channel; artifacts reload exactly', async () => {
    const { baseline, trials, spec } = await run(`  - name: dc
    stages:
      - prune-weights: { retention: 0.3 }
      - finetune: { epochs: 1 }
      - quantize-weights: { scheme: kmeans, bits: 4 }
      - finetune: { epochs: 1 }
      - huffman: {}
  - name: filters
    stages:
      - prune-units: { retention: 0.5 }
      - finetune: { epochs: 1 }
  - name: qat
    stages:
      - quantize-weights: { bits: 4, granularity: channel }
      - quantize-activations: { bits: 6 }
      - finetune: { epochs: 1 }
`);
    expect(baseline.metrics.accuracy).toBeGreaterThan(0.5);
    const [dc, filters, qat] = trials;
    const costs = layerCosts(spec, [28, 28]);
    const baseMacs = costs.reduce((n, c) => n + c.macs, 0);

    // Deep Compression on conv kernels: masks held through both fine-tunings, MACs count positions.
    expect(dc!.metrics.artifact_accuracy).toBe(dc!.metrics.accuracy);
    expect(k(dc!, 'conv_1', 'total')).toBe(3 * 3 * 1 * 4);
    expect(k(dc!, 'conv_1', 'kept')).toBeLessThanOrEqual(Math.round(0.3 * 36));
    expect(k(dc!, 'conv_2', 'kept')).toBeLessThanOrEqual(Math.round(0.3 * 216));
    expect(k(dc!, 'conv_2', 'bits')).toBe(4);
    const dcMacs = costs.reduce((n, c) => n + k(dc!, c.name, 'kept') * c.positions, 0);
    expect(dc!.metrics.macs).toBe(dcMacs);
    expect(dc!.metrics.macs_kept_fraction).toBeCloseTo(dcMacs / baseMacs, 12);

    // Structured: half the filters of conv_1 and conv_2 and half of dense_1's units are gone.
    const loaded = loadArtifactModel(filters!.artifacts.model!.path);
    expect(
      loaded.info.spec.layers.map((l) => (l.type === 'conv2d' ? l.filters : l.type === 'dense' ? l.units : 0)),
    ).toEqual([2, 3, 0, 0, 8, 10]);
    expect(loaded.model.getLayer('dense_1').getWeights()[0]!.shape).toEqual([13 * 13 * 3, 8]);
    expect(filters!.metrics.params_kept).toBe(loaded.model.countParams());
    expect(filters!.metrics.macs_kept_fraction).toBeLessThan(0.55);
    expect(filters!.metrics.artifact_accuracy).toBe(filters!.metrics.accuracy);

    // Per output channel (the last axis of [kh, kw, in, out]): at most 2^4 − 1 values per filter.
    const q = loadArtifactModel(qat!.artifacts.model!.path);
    const kernel = q.model.getLayer('conv_2').getWeights()[0]!.dataSync();
    for (let f = 0; f < 6; f++) {
      const values = new Set<number>();
      for (let i = f; i < kernel.length; i += 6) values.add(kernel[i]!);
      expect(values.size).toBeLessThanOrEqual(15);
    }
    expect(Object.keys(q.info.activations ?? {})).toEqual(['conv_1', 'conv_2', 'dense_1']);
    expect(qat!.metrics.activation_bits).toBe(6);
    expect(qat!.metrics.artifact_accuracy).toBe(qat!.metrics.accuracy);
  });

  it('runs LeNet-5 by name: filters removed from conv_1 and conv_2 only, MACs from the smaller model', async () => {
    const head = HEAD.replace(/model:\n( {2}.*\n)+/, 'model: lenet-5\n')
      .replace('epochs: 3', 'epochs: 1')
      .replace('train: 400, test: 200', 'train: 256, test: 100');
    const { trials } = await run(
      `  - name: filters
    stages:
      - prune-units: { retention: 0.5, layers: [{ match: dense_*, skip: true }] }
`,
      head,
    );
    const [r] = trials;
    const loaded = loadArtifactModel(r!.artifacts.model!.path);
    expect(
      loaded.info.spec.layers.map((l) => (l.type === 'conv2d' ? l.filters : l.type === 'dense' ? l.units : 0)),
    ).toEqual([10, 0, 25, 0, 0, 500, 10]);
    expect(loaded.model.getLayer('dense_1').getWeights()[0]!.shape).toEqual([4 * 4 * 25, 500]);
    // Nonzero parameters: a dead relu unit's bias never leaves 0 in one short epoch.
    expect(r!.metrics.params_kept).toBeLessThanOrEqual(loaded.model.countParams());
    expect(r!.metrics.params_kept).toBeGreaterThan(0.99 * loaded.model.countParams());
    const macs = (spec: ModelSpec) => layerCosts(spec, [28, 28]).reduce((n, c) => n + c.macs, 0);
    expect(r!.metrics.macs).toBeLessThanOrEqual(macs(loaded.info.spec));
    expect(r!.metrics.macs_kept_fraction).toBeCloseTo(r!.metrics.macs! / macs(resolveModelSpec('lenet-5')), 12);
    expect(r!.metrics.artifact_accuracy).toBe(r!.metrics.accuracy);
  });
});
