import { describe, expect, it } from 'vitest';
import { ConfigError, SpecError } from '@squash/core';
import { compressorRegistry, validateParams, withDefaults, withoutDefaults, type ParamSpec } from './index.js';

const get = (name: string) => compressorRegistry.get(name);
const weights = (name: string) => {
  const c = get(name);
  if (c.kind !== 'weights') throw new Error(`${name} is not a weight compressor`);
  return c;
};
const described = (es: ConfigError[]) => es.map((e) => e.describe());

describe('validate', () => {
  it('reports out-of-range values with the expected interval and path', () => {
    const es = get('prune-weights').validate({ retention: 1.5 }, 'stages[0].prune');
    expect(es).toHaveLength(1);
    expect(es[0]).toBeInstanceOf(ConfigError);
    expect(es[0].exitCode).toBe(2);
    expect(es[0].message).toBe('retention must be in (0, 1], got 1.5');
    expect(es[0].location?.path).toBe('stages[0].prune.retention');
    expect(get('prune-weights').validate({ retention: 0 }, 'p')[0].message).toBe('retention must be in (0, 1], got 0');
    expect(get('clip-weights').validate({ threshold: -1 }, 'c')[0].message).toBe('threshold must be > 0, got -1');
  });

  it('reports unknown parameters with a suggestion, not also as missing', () => {
    const es = get('quantize-weights').validate({ bit: 8 }, 'stages[1]');
    expect(es).toHaveLength(1);
    expect(es[0].message).toBe("unknown parameter 'bit'; expected one of: bits, scheme, granularity");
    expect(es[0].hint).toBe("did you mean 'bits'?");
    expect(es[0].location?.path).toBe('stages[1].bit');
    expect(es[0].describe()).toBe(
      "stages[1].bit: unknown parameter 'bit'; expected one of: bits, scheme, granularity (did you mean 'bits'?)",
    );
  });

  it('reports an unrelated unknown name and the missing one separately', () => {
    expect(described(get('quantize-weights').validate({ width: 8 }, 'q'))).toEqual([
      "q.width: unknown parameter 'width'; expected one of: bits, scheme, granularity",
      "q.bits: missing required parameter 'bits' (an integer in [1, 16]) (bits per weight (binary: 1, ternary: 2, symmetric and pow2: >= 2))",
    ]);
  });

  it('checks types and integrality', () => {
    const q = get('quantize-weights');
    expect(q.validate({ bits: 2.5 }, 'q')[0].message).toBe('bits must be an integer in [1, 16], got 2.5');
    expect(q.validate({ bits: '8' }, 'q')[0].message).toBe("bits must be an integer in [1, 16], got '8' (string)");
    expect(q.validate({ bits: 17 }, 'q')[0].message).toBe('bits must be in [1, 16], got 17');
    // 1 bit is valid on its own (asymmetric, kmeans, binary) but not for the default scheme.
    expect(described(q.validate({ bits: 1 }, 'q'))).toEqual([
      "q.bits: bits must be in [2, 16] for scheme 'symmetric', got 1",
    ]);
    expect(get('quantize-activations').validate({ bits: 1 }, 'a')).toEqual([]);
    expect(get('clip-weights').validate({ threshold: 1, value: true }, 'c')[0].message).toBe(
      'value must be a number, got true (boolean)',
    );
    expect(get('clip-weights').validate({ threshold: 0.5, value: -3 }, 'c')).toEqual([]);
  });

  it('handles string enums, booleans and an empty path', () => {
    const spec: Record<string, ParamSpec> = {
      mode: { type: 'string', enum: ['nearest', 'stochastic'], description: 'rounding', required: true },
      flag: { type: 'boolean', description: 'a flag' },
    };
    expect(validateParams(spec, { mode: 'nearest', flag: false }, '')).toEqual([]);
    const es = validateParams(spec, { mode: 'nearst', flag: 1 }, '');
    expect(es.map((e) => [e.location?.path, e.message])).toEqual([
      ['mode', "mode must be one of: nearest, stochastic, got 'nearst' (string); did you mean 'nearest'?"],
      ['flag', 'flag must be true or false, got 1'],
    ]);
  });

  it('apply refuses invalid params with a ConfigError (SpecError for several)', () => {
    const t = [{ name: 'w', shape: [1], values: new Float32Array([1]) }];
    expect(() => weights('prune-weights').apply(t, { retention: 2 })).toThrow(ConfigError);
    expect(() => weights('prune-weights').apply(t, { retention: 2, x: 1 })).toThrow(SpecError);
  });
});

describe('declared defaults', () => {
  it('a compressor run with a default written gives what it gives with the default omitted', () => {
    const t = {
      name: 'dense_1/kernel',
      shape: [4, 3],
      values: Float32Array.from({ length: 12 }, (_, i) => (i - 5.5) / 7),
    };
    const q = weights('quantize-weights');
    const omitted = q.apply([t], { bits: 3 });
    expect(q.apply([t], { bits: 3, scheme: 'symmetric', granularity: 'tensor' }).tensors).toEqual(omitted.tensors);
    expect(q.apply([t], { bits: 3, scheme: 'asymmetric' }).tensors).not.toEqual(omitted.tensors);
    const a = get('quantize-activations');
    if (a.kind !== 'activations') throw new Error('not an activation compressor');
    const batches = [Float32Array.from([0, 1, 2, 30]), Float32Array.from([0, 3, 4, 5])];
    expect(a.calibrate(batches, { bits: 4, calibration: 'minmax' })).toEqual(a.calibrate(batches, { bits: 4 }));
    expect(a.calibrate(batches, { bits: 4, calibration: 'ema', momentum: 0.9 })).toEqual(
      a.calibrate(batches, { bits: 4, calibration: 'ema' }),
    );
  });

  it('withDefaults fills only what is omitted; withoutDefaults drops only values equal to the default', () => {
    const spec: Record<string, ParamSpec> = {
      a: { type: 'integer', required: true, description: 'a' },
      b: { type: 'string', default: 'x', description: 'b (default x)' },
    };
    expect(withDefaults(spec, { a: 1 })).toEqual({ a: 1, b: 'x' });
    expect(withDefaults(spec, { a: 1, b: 'y' })).toEqual({ a: 1, b: 'y' });
    expect(withoutDefaults(spec, { a: 1, b: 'x' })).toEqual({ a: 1 });
    expect(withoutDefaults(spec, { a: 1, b: 'y', c: 2 })).toEqual({ a: 1, b: 'y', c: 2 });
  });
});
