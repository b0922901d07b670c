import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadArtifactModel, evaluate } from '@squash/trainer';
import { loadDataset } from '@squash/datasets';
import { parseSpec } from '../spec/parse.js';
import { runExperiment } from '../execute.js';
import { SqliteStore } from '@squash/store';
import { tempDir } from '../__tests__/fixtures.js';
import type { RunView } from '@squash/store';

const HEAD = `name: pipe
model: { name: mlp, layers: [{ type: flatten }, { type: dense, units: 32, activation: relu }, { type: dense, units: 16, activation: relu }, { type: dense, units: 10, activation: softmax }] }
models:
  student: { name: student, layers: [{ type: flatten }, { type: dense, units: 8, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 600, test: 200 } }
train: { epochs: 5, batchSize: 32, learningRate: 0.002 }
sweeps:
`;

async function run(sweeps: string): Promise<RunView[]> {
  const { experiment, errors } = parseSpec(HEAD + sweeps, 'pipe.yaml');
  expect(errors.map((e) => e.describe())).toEqual([]);
  const dir = tempDir();
  const store = SqliteStore.open(join(dir, 'db.sqlite'));
  const summary = await runExperiment(experiment!, { store, cacheDir: join(dir, 'cache'), backend: 'wasm' });
  const runs = store.listRuns('pipe');
  store.close();
  const failed = runs.filter((r) => r.status !== 'FINISHED').map((r) => r.error);
  expect(failed).toEqual([]);
  expect(summary.failed).toBe(0);
  return runs.filter((r) => !r.isBaseline);
}

const k = (r: RunView, layer: string, key: string) => r.metrics[`layer.${layer}/kernel.${key}`]!;

describe('compression pipelines (synthetic data, real training, real artifacts)', () => {
  it('prune → retrain → k-means → fine-tune centroids → Huffman: masks hold, artifact reloads exactly, sizes shrink in order', async () => {
    const [r, auto] = await run(`  - name: dc
    stages:
      - prune-weights: { retention: 0.1 }
      - finetune: { epochs: 1 }
      - quantize-weights: { scheme: kmeans, bits: 4 }
      - finetune: { epochs: 1 }
      - huffman: { indexBits: 4 }
  - name: dc-auto
    stages:
      - prune-weights: { retention: 0.1 }
      - finetune: { epochs: 1 }
      - quantize-weights: { scheme: kmeans, bits: 4 }
      - finetune: { epochs: 1 }
      - huffman: {}
`);
    expect(r!.metrics.artifact_accuracy).toBe(r!.metrics.accuracy);
    expect(k(r!, 'dense_1', 'index_bits')).toBe(4);
    // Without indexBits every sparse layer gets the width that encodes it smallest: never larger.
    expect(auto!.metrics.accuracy).toBe(r!.metrics.accuracy);
    expect(k(auto!, 'dense_1', 'index_bits')).toBeGreaterThanOrEqual(2);
    for (const layer of ['dense_1', 'dense_2', 'dense_3'])
      expect(k(auto!, layer, 'artifact_bytes')).toBeLessThanOrEqual(k(r!, layer, 'artifact_bytes'));
    expect(k(r!, 'dense_1', 'kept')).toBeLessThanOrEqual(Math.round(0.1 * 784 * 32));
    expect(k(r!, 'dense_1', 'bits')).toBe(4);
    const m = r!.metrics;
    expect(m.size_sparse_bytes!).toBeLessThan(m.size_float32_bytes!);
    expect(m.size_quantized_bytes!).toBeLessThan(m.size_sparse_bytes!);
    expect(m.size_huffman_bytes!).toBeLessThanOrEqual(m.size_quantized_bytes!);
    expect(m.compression_ratio!).toBeGreaterThan(10);
    expect(m.compression_ratio!).toBeCloseTo(m.size_float32_bytes! / m.artifact_bytes!, 10);
    // The file on disk is the recorded size, and a fresh load gives the recorded accuracy.
    const path = r!.artifacts.model!.path;
    expect(readFileSync(path).length).toBe(m.artifact_bytes);
    const data = await loadDataset({ name: 'synthetic', samples: { train: 600, test: 200 } });
    const loaded = loadArtifactModel(path);
    expect(evaluate(loaded.model, data.test, { activationHook: loaded.activationHook }).accuracy).toBe(m.accuracy);
  });

  it('structured pruning physically removes half the hidden units', async () => {
    const [r] = await run(`  - name: units
    stages:
      - prune-units: { retention: 0.5 }
      - finetune: { epochs: 1 }
`);
    const loaded = loadArtifactModel(r!.artifacts.model!.path);
    expect(loaded.info.spec.layers.map((l) => (l.type === 'dense' ? l.units : 0))).toEqual([0, 16, 8, 10]);
    expect(loaded.model.countParams()).toBe(784 * 16 + 16 + 16 * 8 + 8 + 8 * 10 + 10);
    expect(r!.metrics.params_kept).toBe(loaded.model.countParams());
    expect(r!.metrics.weights_changed_fraction).toBeUndefined();
    expect(r!.metrics.artifact_accuracy).toBe(r!.metrics.accuracy);
  });

  it('per-layer overrides, gradual and iterative pruning keep exactly the asked fractions', async () => {
    const runs = await run(`  - name: per-layer
    stages:
      - prune-weights: { retention: 0.5, layers: [{ match: dense_1, retention: 0.08 }, { match: dense_3, skip: true }] }
  - name: gradual
    stages:
      - prune-gradual: { retention: 0.2, epochs: 2, frequency: 5 }
  - name: iterative
    stages:
      - prune-iterative: { retention: 0.25, rounds: 2, epochs: 1 }
  - name: iterative-per-layer
    stages:
      - prune-iterative: { retention: 0.25, rounds: 2, epochs: 1, layers: [{ match: dense_1, retention: 0.08 }, { match: dense_3, skip: true }] }
`);
    const [perLayer, gradual, iterative, iterativePerLayer] = runs;
    // Deep Compression's per-layer rates through prune → retrain rounds: each layer ends at its own.
    expect(k(iterativePerLayer!, 'dense_1', 'kept')).toBe(Math.round(0.08 * 784 * 32));
    expect(k(iterativePerLayer!, 'dense_2', 'kept')).toBe(Math.round(0.25 * 32 * 16));
    expect(k(iterativePerLayer!, 'dense_3', 'kept')).toBe(160);
    // The paper's per-layer columns: fraction kept and compressed size over float32 size.
    expect(k(iterativePerLayer!, 'dense_1', 'kept_fraction')).toBeCloseTo(0.08, 4);
    expect(k(iterativePerLayer!, 'dense_1', 'size_fraction')).toBe(
      k(iterativePerLayer!, 'dense_1', 'artifact_bytes') / (4 * 784 * 32),
    );
    expect(k(perLayer!, 'dense_1', 'kept')).toBe(Math.round(0.08 * 784 * 32));
    expect(k(perLayer!, 'dense_2', 'kept')).toBe(Math.round(0.5 * 32 * 16));
    expect(k(perLayer!, 'dense_3', 'kept')).toBe(160);
    expect(k(gradual!, 'dense_1', 'kept')).toBe(Math.round(0.2 * 784 * 32));
    expect(k(iterative!, 'dense_2', 'kept')).toBe(Math.round(0.25 * 32 * 16));
    expect(iterative!.metrics.finetune_seconds).toBeGreaterThan(0);
  });

  it('quantization-aware fine-tuning keeps weights on a b-bit grid; activation QAT and distillation run end to end', async () => {
    const runs = await run(`  - name: qat
    stages:
      - quantize-weights: { bits: 3, granularity: channel }
      - quantize-activations: { bits: 4 }
      - finetune: { epochs: 1 }
  - name: distill
    stages:
      - distill: { student: student, epochs: 3 }
      - quantize-weights: { bits: 8 }
`);
    const [qat, distill] = runs;
    const loaded = loadArtifactModel(qat!.artifacts.model!.path);
    const kernel = loaded.model.getLayer('dense_1').getWeights()[0]!.arraySync() as number[][];
    for (let c = 0; c < 32; c++) expect(new Set(kernel.map((row) => row[c])).size).toBeLessThanOrEqual(2 ** 3);
    expect(qat!.metrics.activation_bits).toBe(4);
    expect(qat!.metrics.artifact_accuracy).toBe(qat!.metrics.accuracy);
    expect(loadArtifactModel(distill!.artifacts.model!.path).model.countParams()).toBe(784 * 8 + 8 + 8 * 10 + 10);
    expect(distill!.metrics.params_kept).toBeLessThanOrEqual(784 * 8 + 8 + 8 * 10 + 10);
    expect(distill!.metrics.accuracy).toBeGreaterThan(0.5);
    expect(existsSync(distill!.artifacts.model!.path)).toBe(true);
  });
});

describe('cached pipeline states', () => {
  it('trains a shared prefix once and gives the same numbers as without the cache', async () => {
    const sweep = `  - name: shared
    stages:
      - prune-weights: { retention: 0.3 }
      - finetune: { epochs: 2 }
      - quantize-weights: { scheme: kmeans, bits: [3, 4] }
      - finetune: { epochs: 1 }
`;
    const runs = await run(sweep);
    const [first, second] = runs;
    expect(first!.metrics.cached_stages).toBe(0);
    expect(second!.metrics.cached_stages).toBe(2); // prune + finetune came from the cache
    expect(second!.params.cache_hit).toBe(true);
    expect(second!.metrics.finetune_seconds).toBeGreaterThan(0);
    // A fresh cache computes the 4-bit trial from scratch: identical results.
    const alone = await run(sweep.replace('bits: [3, 4]', 'bits: 4'));
    expect(alone[0]!.metrics.cached_stages).toBe(0);
    expect(alone[0]!.metrics.accuracy).toBe(second!.metrics.accuracy);
    expect(alone[0]!.metrics.artifact_bytes).toBe(second!.metrics.artifact_bytes);
  });
});
