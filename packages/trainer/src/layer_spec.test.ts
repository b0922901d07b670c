import { describe, expect, it } from 'vitest';
import { canonicalModelSpec, LAYER_FIELDS, type ModelSpec, modelSpecProblems } from './specs.js';

describe('layer field defaults', () => {
  it('each declared default is a valid, optional value its description names', () => {
    for (const [type, fields] of Object.entries(LAYER_FIELDS)) {
      for (const [name, field] of Object.entries(fields)) {
        if (field.default === undefined) continue;
        expect(field.required, `${type}.${name}`).toBeFalsy();
        expect(field.description, `${type}.${name}`).toContain(String(field.default));
        const layer = {
          type,
          ...Object.fromEntries(
            Object.entries(fields)
              .filter(([, f]) => f.required)
              .map(([k, f]) => [k, f.kind === 'enum' ? f.values![0] : 3]),
          ),
          [name]: field.default,
        };
        expect(modelSpecProblems({ name: 'm', layers: [layer as never] }), `${type}.${name}`).toEqual([]);
      }
    }
  });

  it('canonicalModelSpec drops fields written at their default, keeps everything else', () => {
    const written: ModelSpec = {
      name: 'm',
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, strides: [1, 1], padding: 'valid', activation: 'relu' },
        { type: 'maxPool2d', poolSize: 2, strides: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 10, activation: 'linear' },
      ],
    };
    expect(canonicalModelSpec(written)).toEqual({
      name: 'm',
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
        { type: 'maxPool2d', poolSize: 2, strides: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 10 },
      ],
    });
    expect(canonicalModelSpec(canonicalModelSpec(written))).toEqual(canonicalModelSpec(written));
  });
});
