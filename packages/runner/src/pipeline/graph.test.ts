import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@squash/core';
import { selectBackend } from '@squash/backend';
import { dequantize, readArtifact } from '@squash/compressors';
import { loadDataset, type Dataset } from '@squash/datasets';
import {
  buildModel,
  evaluate,
  getWeights,
  loadArtifactModel,
  planLayers,
  train,
  type ModelSpec,
} from '@squash/trainer';
import { readFileSync } from 'node:fs';
import { tempDir } from '../__tests__/fixtures.js';
import type { Stage } from '../spec/types.js';
import { trialMetrics } from '../trial_metrics.js';
import { writeTrialArtifact } from './artifact.js';
import { runPipeline } from './run.js';
import type { PipelineContext } from './state.js';

// stem (3×3/2) → bn → relu ─┬→ conv_a → bn → relu → conv_b → bn → add → bn → relu → pool ─┬→ dw → bn → relu ─┬→ concat → flatten → dense
//                           └──────────────────────────────────────────┘                  └→ sep (relu) ─────┘
const RESIDUAL: ModelSpec = {
  name: 'residual',
  layers: [
    { type: 'conv2d', name: 'stem', filters: 8, kernelSize: 3, strides: 2, useBias: false },
    { type: 'batchNorm', name: 'stem_bn', momentum: 0.9 },
    { type: 'activation', name: 'stem_relu', activation: 'relu' },
    { type: 'conv2d', name: 'b1_conv_a', filters: 8, kernelSize: 3, padding: 'same' },
    { type: 'batchNorm', name: 'b1_bn_a', momentum: 0.9 },
    { type: 'activation', activation: 'relu' },
    { type: 'conv2d', name: 'b1_conv_b', filters: 8, kernelSize: 3, padding: 'same' },
    { type: 'batchNorm', name: 'b1_bn_b', momentum: 0.9 },
    { type: 'add', name: 'b1_add', inputs: ['b1_bn_b', 'stem_relu'] },
    { type: 'batchNorm', name: 'b1_bn_out', momentum: 0.9 },
    { type: 'activation', name: 'b1_relu', activation: 'relu' },
    { type: 'maxPool2d', name: 'pool', poolSize: 2 },
    { type: 'depthwiseConv2d', name: 'dw', kernelSize: 3, padding: 'same', depthMultiplier: 2 },
    { type: 'batchNorm', name: 'dw_bn', momentum: 0.9 },
    { type: 'activation', name: 'dw_relu', activation: 'relu' },
    {
      type: 'separableConv2d',
      name: 'sep',
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      inputs: ['pool'],
    },
    { type: 'concatenate', name: 'cat', inputs: ['dw_relu', 'sep'] },
    { type: 'flatten' },
    { type: 'dense', name: 'out', units: 10, activation: 'softmax' },
  ],
};

let data: Dataset;
let baseline: tf.LayersModel;
let baselineAccuracy: number;

beforeAll(async () => {
  // Not wasm: tfjs-backend-wasm has no depthwise-convolution gradients (DepthwiseConv2dNativeBackpropInput).
  await selectBackend({ prefer: 'native' });
  data = await loadDataset({ name: 'synthetic', samples: { train: 500, test: 200 } });
  baseline = buildModel(RESIDUAL, data.inputShape, 1);
  await train(baseline, data.train, { epochs: 2, batchSize: 32, learningRate: 0.003, seed: 1 });
  // Training moves the batch norms' statistics (momentum 0.9 over 32 steps): folding must honour them.
  const moving = getWeights(baseline).filter((w) => w.name.endsWith('/moving_mean'));
  expect(moving.every((w) => w.values.some((v) => v !== 0))).toBe(true);
  baselineAccuracy = evaluate(baseline, data.test).accuracy;
});

function context(): PipelineContext {
  return {
    data,
    calibration: { x: data.train.x.subarray(0, 200 * 784), y: data.train.y.subarray(0, 200), count: 200 },
    teacher: baseline,
    train: { epochs: 3, batchSize: 32, learningRate: 0.01, validationSplit: 0 },
    seed: 1,
    resolveModel: () => RESIDUAL,
    baselineId: 'graph-test',
    models: {},
  };
}

const stage = (compressor: string, params: Stage['params'], layers?: Stage['layers']): Stage => ({
  compressor,
  params,
  ...(layers ? { layers } : {}),
});

describe('a residual graph model through the pipeline (batch norm, depthwise, separable, add, concatenate)', () => {
  it('prune → k-means per channel → fine-tune → activation quantization → Huffman: the artifact reloads to the same accuracy', async () => {
    expect(baselineAccuracy).toBeGreaterThan(0.3);
    const ctx = context();
    const { state, evaluation } = await runPipeline(
      baseline,
      RESIDUAL,
      [
        stage('prune-weights', { retention: 0.5 }),
        stage('quantize-weights', { scheme: 'kmeans', bits: 4, granularity: 'channel' }),
        stage('finetune', { epochs: 1 }),
        stage('quantize-activations', { bits: 8 }),
        stage('huffman', {}),
      ],
      ctx,
    );
    // Every batch norm right after a linear conv is folded; the one after the add stays.
    const types = planLayers(state.spec, data.inputShape).flatMap((p) => (p.type === 'batchNorm' ? [p.name] : []));
    expect(types).toEqual(['b1_bn_out']);
    // Every kernel is compressed: masks and per-channel codebooks on depthwise and pointwise kernels too.
    const kernels = [
      'stem/kernel',
      'b1_conv_a/kernel',
      'b1_conv_b/kernel',
      'dw/depthwise_kernel',
      'sep/depthwise_kernel',
      'sep/pointwise_kernel',
      'out/kernel',
    ];
    expect([...state.quantized.keys()].sort()).toEqual([...kernels].sort());
    expect([...state.masks.keys()].sort()).toEqual([...kernels].sort());
    const dw = state.quantized.get('dw/depthwise_kernel')!;
    expect([dw.channelAxis, dw.channelSpan]).toEqual([2, 2]);
    expect(dw.codebook.length).toBe(8 * 2 * dw.levels); // C·M = 16 output channels
    expect(state.quantized.get('sep/pointwise_kernel')!.channelAxis).toBe(3);
    // Hidden activations at every point, the add's and the concatenate's included.
    // (dw's and sep's outputs only feed the concatenate: its point covers them.)
    expect([...state.activations.keys()].sort()).toEqual(['b1_add', 'b1_conv_a', 'cat', 'stem']);
    for (const name of kernels) {
      const w = getWeights(state.model).find((t) => t.name === name)!;
      const mask = state.masks.get(name)!;
      expect(w.values, name).toEqual(dequantize(state.quantized.get(name)!));
      for (let i = 0; i < mask.length; i++) if (!mask[i]) expect(w.values[i]).toBe(0);
    }

    const path = join(tempDir(), 'residual.sqz');
    const artifact = await writeTrialArtifact(state, ctx, path);
    expect(artifact.reloaded.accuracy).toBe(evaluation.accuracy);
    expect(artifact.reloaded.loss).toBe(evaluation.loss);
    const loaded = loadArtifactModel(path);
    expect(loaded.info.spec).toEqual(state.spec);
    expect(evaluate(loaded.model, data.test, { activationHook: loaded.activationHook })).toEqual(evaluation);
    const header = readArtifact(new Uint8Array(readFileSync(path)));
    expect(header.tensors.map((t) => t.name)).toContain('b1_bn_out/moving_variance');
    expect(header.tensors.map((t) => t.name)).not.toContain('stem_bn/gamma');

    const metrics = new Map(
      trialMetrics({
        evaluation,
        baselineAccuracy,
        baselineWeights: getWeights(baseline),
        baselineSpec: RESIDUAL,
        inputShape: data.inputShape,
        state,
        artifact,
        seconds: 1,
      }).map((m) => [m.key, m.value]),
    );
    const kernelTotal = getWeights(baseline)
      .filter((w) => kernels.includes(w.name))
      .reduce((n, w) => n + w.values.length, 0);
    expect(metrics.get('weights_total')).toBe(kernelTotal);
    expect(metrics.get('weights_kept_fraction')).toBeCloseTo(0.5, 2);
    expect(metrics.get('layer.dw/depthwise_kernel.bits')).toBe(4);
    expect(metrics.get('layer.sep/pointwise_kernel.kept')).toBe(Math.round(0.5 * 8 * 8)); // [1, 1, C·M = 8, 8]
    expect(metrics.get('artifact_accuracy')).toBe(evaluation.accuracy);
    expect(Math.abs(evaluation.accuracy - baselineAccuracy)).toBeLessThan(0.3);
  }, 240_000);

  it('the folded model alone computes what the baseline does', async () => {
    const { state, evaluation } = await runPipeline(baseline, RESIDUAL, [stage('huffman', {})], context());
    const base = evaluate(baseline, data.test);
    expect(evaluation.accuracy).toBe(base.accuracy);
    expect(evaluation.loss).toBeCloseTo(base.loss, 5);
    // Weights left as they were: nothing counts as changed against the folded baseline.
    const artifact = await writeTrialArtifact(state, context(), join(tempDir(), 'plain.sqz'));
    const metrics = trialMetrics({
      evaluation,
      baselineAccuracy,
      baselineWeights: getWeights(baseline),
      baselineSpec: RESIDUAL,
      inputShape: data.inputShape,
      state,
      artifact,
      seconds: 1,
    });
    expect(metrics.find((m) => m.key === 'weights_changed_fraction')?.value).toBe(0);
  });

  it('a cached state of the folded graph restores with its per-channel depthwise codebooks', async () => {
    const ctx = { ...context(), stateCacheDir: join(tempDir(), 'states') };
    const stages = [
      stage('quantize-weights', { scheme: 'kmeans', bits: 3, granularity: 'channel' }),
      stage('finetune', { epochs: 1 }),
    ];
    const first = await runPipeline(baseline, RESIDUAL, stages, ctx);
    const again = await runPipeline(baseline, RESIDUAL, [...stages, stage('huffman', {})], ctx);
    expect(again.cachedStages).toBe(2);
    expect(again.state.spec).toEqual(first.state.spec);
    expect(again.state.quantized.get('dw/depthwise_kernel')).toEqual(first.state.quantized.get('dw/depthwise_kernel'));
    expect(again.state.quantized.get('dw/depthwise_kernel')!.channelSpan).toBe(2);
    expect(again.evaluation).toEqual(first.evaluation);
    expect((await writeTrialArtifact(again.state, ctx, join(tempDir(), 'cached.sqz'))).reloaded).toEqual(
      again.evaluation,
    );
  });

  it('a distilled student with batch norms is folded like the baseline', async () => {
    const student: ModelSpec = {
      name: 'student',
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2 },
        { type: 'batchNorm' },
        { type: 'activation', activation: 'relu' },
        { type: 'flatten' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    };
    const ctx = { ...context(), resolveModel: () => student };
    const { state } = await runPipeline(baseline, RESIDUAL, [stage('distill', { student: 'student', epochs: 1 })], ctx);
    expect(state.spec.layers.map((l) => l.name)).toEqual(['conv_1', 'act_1', 'flatten_1', 'dense_1']);
    expect((await writeTrialArtifact(state, ctx, join(tempDir(), 'student.sqz'))).reloaded.accuracy).toBeGreaterThan(
      0.3,
    );
  });

  it('prune-units on the first conv of the residual block: a smaller model that evaluates and reloads from its .sqz', async () => {
    const ctx = context();
    const { state, evaluation } = await runPipeline(
      baseline,
      RESIDUAL,
      [stage('prune-units', { retention: 0.5 }, [{ match: 'b1_conv_a' }, { match: '*', skip: true }])],
      ctx,
    );
    const conv = state.spec.layers.find((l) => l.name === 'b1_conv_a');
    expect(conv).toMatchObject({ type: 'conv2d', filters: 4 });
    const shapes = Object.fromEntries(getWeights(state.model).map((w) => [w.name, w.shape.join('×')]));
    expect(shapes).toMatchObject({
      'b1_conv_a/kernel': '3×3×8×4',
      'b1_conv_a/bias': '4',
      'b1_conv_b/kernel': '3×3×4×8',
    });
    expect(state.model.countParams()).toBeLessThan(baseline.countParams());
    expect(evaluation.accuracy).toBeGreaterThan(0.1);
    const artifact = await writeTrialArtifact(state, ctx, join(tempDir(), 'units.sqz'));
    expect(artifact.reloaded).toEqual(evaluation);
  });

  it('prune-units on convs whose filters feed the add or the concatenate is refused, saying how to skip them', async () => {
    const run = (layers?: Stage['layers']) =>
      runPipeline(baseline, RESIDUAL, [stage('prune-units', { retention: 0.5 }, layers)], context());
    await expect(run([{ match: 'b1_conv_b' }, { match: '*', skip: true }])).rejects.toThrow(
      "b1_conv_b's filters feed the add b1_add; prune-units cannot prune them alone: skip it with layers: [{match: b1_conv_b, skip: true}]",
    );
    const all = await run().catch((e: unknown) => e);
    expect(all).toBeInstanceOf(ConfigError);
    expect((all as Error).message).toBe(
      "stem's filters feed the add b1_add; b1_conv_b's filters feed the add b1_add; sep's filters feed the concatenate cat; " +
        'prune-units cannot prune those alone: skip them with layers: [{match: stem, skip: true}, {match: b1_conv_b, skip: true}, {match: sep, skip: true}]',
    );
  });
});
