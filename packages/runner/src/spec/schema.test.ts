import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compressorRegistry } from '@squash/compressors';
import { SCHEMA_FILE, schemaText } from '../write_schema.js';

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
    expect(Object.keys(q.bits.anyOf[2].properties)).toEqual(['range', 'linspace', 'logspace']);
    expect(q.bits.anyOf[2].properties.range.properties.step.type).toBe('integer');
    expect(q.scheme.anyOf.map((b: { type: string }) => b.type)).toEqual(['string', 'array']);
    expect(Object.keys(schema.properties.sweeps.items.properties)).toEqual(['name', 'stages', 'zip', 'exclude']);
    expect(schema.properties.repeats).toMatchObject({ type: 'integer', minimum: 1 });
    expect(Object.keys(schema.properties.defaults.properties).sort()).toEqual(
      Object.keys(schema.properties.sweeps.items.properties.stages.items.properties).sort(),
    );
  });
});
