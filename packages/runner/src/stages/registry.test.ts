import { describe, expect, it } from 'vitest';
import { compressorRegistry, pruneWeightsConfig, validateParams } from '@squash/compressors';
import type { Stage } from '../spec/types.js';
import {
  cachesState,
  canonicalStage,
  getStage,
  layerOverrideParams,
  modelsNamedBy,
  stageNames,
  stageRegistry,
  withStageDefaults,
} from './registry.js';

const where = (test: (name: string) => boolean) => stageNames().filter(test).sort();

describe('stage registry', () => {
  it('lists every compressor, then the pipeline stages, in schema order', () => {
    expect(stageNames()).toEqual([
      ...compressorRegistry.names(),
      'finetune',
      'prune-iterative',
      'prune-gradual',
      'distill',
      'huffman',
    ]);
    expect(() => getStage('prune')).toThrow(/unknown stage 'prune'; known: .*prune-weights/);
  });

  it.each(stageNames())('%s: a complete config under its own name', (name) => {
    const s = getStage(name);
    expect(s.name).toBe(name);
    expect(s.description.length).toBeGreaterThan(10);
    for (const p of Object.values(s.params)) expect(p.description.length).toBeGreaterThan(0);
    expect(s.validate({ bogus: 1 }, 'x').map((e) => e.location?.path)).toContain('x.bogus');
    expect(typeof s.apply).toBe('function');
    if (s.modelParam) expect(s.params[s.modelParam]).toMatchObject({ type: 'string', required: true });
  });

  it.each(stageNames())('%s: every declared default is a valid, optional value its description names', (name) => {
    const s = getStage(name);
    for (const [param, spec] of Object.entries(s.params)) {
      if (spec.default === undefined) continue;
      expect(spec.required, `${name}.${param}`).toBeFalsy();
      expect(validateParams({ [param]: spec }, { [param]: spec.default }, name)).toEqual([]);
      expect(spec.description, `${name}.${param}`).toContain(`default ${spec.default}`);
    }
  });

  it('fills declared defaults to run a stage, and drops them to hash it', () => {
    const omitted: Stage = { compressor: 'quantize-weights', params: { bits: 4 } };
    const filled = withStageDefaults(omitted);
    expect(filled.params).toEqual({ bits: 4, scheme: 'symmetric', granularity: 'tensor' });
    expect(canonicalStage(filled)).toEqual(omitted);
    expect(canonicalStage({ ...omitted, params: { bits: 4, scheme: 'kmeans' } }).params).toEqual({
      bits: 4,
      scheme: 'kmeans',
    });
    expect(withStageDefaults({ compressor: 'distill', params: { student: 's', epochs: 1 } }).params).toEqual({
      student: 's',
      epochs: 1,
      temperature: 4,
      alpha: 0.7,
    });
  });

  it('derives what the spec rules and the state cache used to list by name', () => {
    expect(where((n) => cachesState(getStage(n)))).toEqual(
      ['finetune', 'prune-iterative', 'prune-gradual', 'distill', 'prune-units'].sort(),
    );
    expect(where((n) => getStage(n).replacesModel)).toEqual(['distill', 'prune-units']);
    expect(where((n) => getStage(n).transformsWeights)).toEqual(
      ['clip-weights', 'quantize-weights', 'prune-weights', 'prune-iterative', 'prune-gradual', 'finetune'].sort(),
    );
    expect(where((n) => getStage(n).modelParam !== undefined)).toEqual(['distill']);
    expect(getStage('distill').modelParam).toBe('student');
  });

  it('per-layer params: every param of a compressor, the final retention of iterative pruning', () => {
    for (const name of compressorRegistry.names())
      expect(layerOverrideParams(name)).toBe(compressorRegistry.get(name).params);
    expect(Object.keys(layerOverrideParams('prune-iterative')!)).toEqual(['retention']);
    expect(layerOverrideParams('prune-iterative')!.retention!.required).toBe(false);
    expect(where((n) => layerOverrideParams(n) !== undefined)).toEqual(
      [...compressorRegistry.names(), 'prune-iterative'].sort(),
    );
  });

  it('a compressor stage validates with its compressor (rules between params included)', () => {
    expect(getStage(pruneWeightsConfig.name).validate({ retention: 2 }, 's')[0]?.message).toBe(
      'retention must be in (0, 1], got 2',
    );
    expect(getStage('quantize-weights').validate({ bits: 4, scheme: 'binary' }, 's')[0]?.message).toBe(
      "bits must be 1 for scheme 'binary', got 4",
    );
  });

  it('modelsNamedBy: the experiment models the stages name through their model param, nothing else', () => {
    const models = { small: { name: 'small', layers: [] }, unused: { name: 'unused', layers: [] } };
    const stages: Stage[] = [
      { compressor: 'distill', params: { student: 'small', epochs: 1 } },
      { compressor: 'quantize-weights', params: { bits: 4, student: 'unused' } },
    ];
    expect(modelsNamedBy(stages, models)).toEqual({ small: models.small });
    // A built-in model is not an experiment model: the Squash version covers it.
    expect(modelsNamedBy([{ compressor: 'distill', params: { student: 'lenet-300-100' } }], models)).toEqual({});
  });

  it('refuses a second stage under a taken name', () => {
    expect(() => stageRegistry.register('finetune', getStage('finetune'))).toThrow(/already registered/);
  });
});
