import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compressorRegistry } from '@squash/compressors';
import { OPTIMIZER_FIELD_NAMES } from '@squash/trainer/specs';
import { SCHEMA_FILE, schemaText } from '../write_schema.js';
import { TRAIN_FIELD_NAMES } from './train_fields.js';

describe('experiment schema', () => {
  it('the published file matches the registries (regenerate: pnpm --filter @squash/runner run schema)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText());
  });
  it('lists every registered compressor with its parameters', () => {
    const schema = JSON.parse(schemaText());
    const stage = schema.properties.sweeps.items.properties.stages.items;
    for (const name of compressorRegistry.names()) {
      const own = Object.keys(stage.properties[name].properties).filter((k) => k !== 'layers');
      expect(own.sort()).toEqual(Object.keys(compressorRegistry.get(name).params).sort());
      const [overrides, each] = stage.properties[name].properties.layers.anyOf;
      expect(overrides.items.required).toEqual(['match']);
      expect(each.enum).toEqual(['each']);
    }
  });
  it('offers value expressions on numeric params only, and the grid keys of a sweep', () => {
    const schema = JSON.parse(schemaText());
    const q = schema.properties.sweeps.items.properties.stages.items.properties['quantize-weights'].properties;
    expect(q.bits.anyOf.map((b: { type: string }) => b.type)).toEqual(['integer', 'array', 'object']);
    expect(q.bits.anyOf[2]).toEqual({
      title: 'range/linspace/logspace',
      type: 'object',
      $ref: '#/definitions/integerExpr',
    });
    const integerExpr = schema.definitions.integerExpr;
    expect(Object.keys(integerExpr.properties)).toEqual(['range', 'linspace', 'logspace']);
    expect(integerExpr.properties.range.properties.step.type).toBe('integer');
    expect(schema.definitions.numberExpr.properties.range.properties.step.type).toBe('number');
    expect(q.scheme.anyOf.map((b: { type: string }) => b.type)).toEqual(['string', 'array']);
    expect(Object.keys(schema.properties.sweeps.items.properties)).toEqual(['name', 'stages', 'zip', 'exclude']);
    expect(schema.properties.repeats).toMatchObject({ type: 'integer', minimum: 1 });
    expect(Object.keys(schema.properties.defaults.properties).sort()).toEqual(
      Object.keys(schema.properties.sweeps.items.properties.stages.items.properties).sort(),
    );
  });
  it('offers every train field as an axis, documented in SWEEPS.md', () => {
    const schema = JSON.parse(schemaText());
    const train = schema.properties.train.properties;
    expect(Object.keys(train)).toEqual(TRAIN_FIELD_NAMES);
    expect(train.learningRate.anyOf.map((b: { type: string }) => b.type)).toEqual(['number', 'array', 'object']);
    expect(train.optimizer.anyOf[0]).toMatchObject({ type: 'string', enum: ['adam', 'adamw', 'sgd'], default: 'adam' });
    expect(train.validationSplit.anyOf[0]).toMatchObject({ minimum: 0, exclusiveMaximum: 1 });
    const doc = readFileSync(new URL('../../SWEEPS.md', import.meta.url), 'utf8');
    for (const f of TRAIN_FIELD_NAMES) expect(doc).toMatch(new RegExp(`^\\| [^|]*\`${f}\``, 'm'));
  });
  it('gives every training stage every optimizer field, without a default (train: is)', () => {
    const schema = JSON.parse(schemaText());
    const stages = schema.properties.sweeps.items.properties.stages.items.properties;
    for (const name of ['finetune', 'prune-iterative', 'prune-gradual', 'distill']) {
      const props = stages[name].properties;
      for (const f of ['iterations', 'epochs', 'learningRate', 'batchSize'])
        expect(props[f], `${name}.${f}`).toBeDefined();
      // One schema per field, shared by every training stage and defaults: entry.
      for (const f of OPTIMIZER_FIELD_NAMES) {
        expect(props[f], `${name}.${f}`).toEqual({ $ref: `#/definitions/optimizerAxis/${f}` });
        expect(schema.properties.defaults.properties[name].properties[f]).toEqual({
          $ref: `#/definitions/optimizerValue/${f}`,
        });
      }
    }
    for (const f of OPTIMIZER_FIELD_NAMES) {
      expect(schema.definitions.optimizerAxis[f].default, f).toBeUndefined();
      expect(schema.definitions.optimizerValue[f].default, f).toBeUndefined();
    }
    expect(schema.definitions.optimizerAxis.optimizer.anyOf[0].enum).toEqual(['adam', 'adamw', 'sgd']);
    expect(stages.finetune.properties.learningRate.description).not.toMatch(/Adam/);
  });
});
