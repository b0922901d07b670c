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
      expect(stage.properties[name].properties.layers.items.required).toEqual(['match']);
    }
  });
});
