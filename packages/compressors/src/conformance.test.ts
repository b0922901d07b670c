/**
 * Runs over every registered compressor, so a new scheme gets these checks by registering.
 * Valid parameters are derived from each ParamSpec, which also checks that specs and
 * `validate` agree with each other. Structure compressors have no transform here (the trainer
 * applies them), so only their validation is covered.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import {
  compressorRegistry,
  QUANT_SCHEMES,
  SCHEME_BITS,
  type Compressor,
  type ParamSpec,
  type Params,
  type QuantScheme,
} from './index.js';

/** A valid value strictly inside the spec's bounds. */
function middle(spec: ParamSpec): number | string | boolean {
  if (spec.type === 'boolean') return true;
  if (spec.type === 'string') return spec.enum?.[0] ?? 'x';
  const lo = spec.minimum ?? spec.exclusiveMinimum ?? -4;
  const hi = spec.maximum ?? lo + 8;
  return spec.type === 'integer' ? Math.ceil((lo + hi) / 2) : (lo + hi) / 2;
}

/** A few valid values per spec: the middle, the inclusive bounds, just above an exclusive one. */
function samples(spec: ParamSpec): (number | string | boolean)[] {
  if (spec.type === 'boolean') return [true, false];
  if (spec.type === 'string') return spec.enum ?? ['x'];
  const out = [middle(spec)];
  if (spec.minimum !== undefined) out.push(spec.minimum);
  if (spec.exclusiveMinimum !== undefined) {
    const hi = spec.maximum ?? spec.exclusiveMinimum + 8;
    out.push(spec.exclusiveMinimum + (hi - spec.exclusiveMinimum) / 100);
  }
  if (spec.maximum !== undefined) out.push(spec.maximum);
  return out;
}

/**
 * Rules between parameters that a ParamSpec cannot express, applied by changing the parameter
 * that was *not* varied. quantize-weights: every scheme has its own bit range.
 */
function repair(c: Compressor, p: Params, varied?: string): Params {
  if (c.name !== 'quantize-weights') return p;
  const bits = p.bits as number;
  const { min, max } = SCHEME_BITS[(p.scheme ?? 'symmetric') as QuantScheme];
  if (bits >= min && bits <= max) return p;
  if (varied === 'bits')
    return { ...p, scheme: QUANT_SCHEMES.find((s) => bits >= SCHEME_BITS[s].min && bits <= SCHEME_BITS[s].max)! };
  return { ...p, bits: Math.min(max, Math.max(min, bits)) };
}

/** Parameter sets: required params at their middle, then each sample of each param in turn. */
function paramSets(c: Compressor): Params[] {
  const base: Params = {};
  for (const [n, s] of Object.entries(c.params)) if (s.required) base[n] = middle(s);
  const sets: Params[] = [repair(c, base)];
  for (const [n, s] of Object.entries(c.params))
    for (const v of samples(s)) sets.push(repair(c, { ...base, [n]: v }, n));
  return sets;
}

/** Inputs and their shapes: rank 2 and 4 ones exercise per-channel granularity. */
function inputs(): Record<string, { values: Float32Array; shape: number[] }> {
  const rng = createRng(2024);
  return {
    random: { values: new Float32Array(1000).map(() => rng.normal() * 0.1), shape: [40, 25] },
    relu: { values: new Float32Array(1000).map(() => Math.max(0, rng.normal())), shape: [1000] },
    conv: { values: new Float32Array(3 * 3 * 4 * 8).map(() => rng.normal()), shape: [3, 3, 4, 8] },
    wide: { values: new Float32Array(257).map(() => (rng.next() - 0.5) * 1e4), shape: [257] },
    zeros: { values: new Float32Array(300), shape: [30, 10] },
    single: { values: new Float32Array([0.3]), shape: [1, 1] },
    empty: { values: new Float32Array(0), shape: [0, 4] },
  };
}

const hasNaN = (a: Float32Array) => a.some((x) => Number.isNaN(x));

describe.each(compressorRegistry.names())('compressor %s', (name) => {
  const c = compressorRegistry.get(name);

  it('has a name, description and documented params', () => {
    expect(c.name).toBe(name);
    expect(c.description.length).toBeGreaterThan(10);
    expect(Object.keys(c.params).length).toBeGreaterThan(0);
    for (const s of Object.values(c.params)) expect(s.description.length).toBeGreaterThan(0);
  });

  it('accepts every parameter set derived from its spec', () => {
    for (const p of paramSets(c)) expect(c.validate(p, 'stage'), JSON.stringify(p)).toEqual([]);
  });

  it('rejects unknown params with a located error', () => {
    const p = { ...paramSets(c)[0], bogus: 1 };
    const es = c.validate(p, 'sweeps[0].stages[2]');
    expect(es).toHaveLength(1);
    expect(es[0].location?.path).toBe('sweeps[0].stages[2].bogus');
    expect(es[0].message).toContain("unknown parameter 'bogus'");
    expect(es[0].exitCode).toBe(2);
  });

  it('rejects a missing required param, a wrong type and an out-of-range value, each located', () => {
    for (const [n, s] of Object.entries(c.params)) {
      const base = paramSets(c)[0];
      if (s.required) {
        const { [n]: _, ...rest } = base;
        const es = c.validate(rest, 'x');
        expect(es.map((e) => e.location?.path)).toEqual([`x.${n}`]);
      }
      expect(c.validate({ ...base, [n]: s.type === 'string' ? 1 : 'nope' }, 'x')[0]?.location?.path).toBe(`x.${n}`);
      const bad =
        s.maximum !== undefined
          ? s.maximum + 1
          : s.minimum !== undefined
            ? s.minimum - 1
            : s.exclusiveMinimum !== undefined
              ? s.exclusiveMinimum
              : undefined;
      if (bad !== undefined) expect(c.validate({ ...base, [n]: bad }, 'x')[0]?.location?.path).toBe(`x.${n}`);
    }
  });

  it.skipIf(c.kind === 'structure')(
    'never produces NaN, keeps lengths, names and shapes, and leaves inputs untouched',
    () => {
      for (const params of paramSets(c)) {
        for (const [label, { values, shape }] of Object.entries(inputs())) {
          const before = values.slice();
          const what = `${label} ${JSON.stringify(params)}`;
          if (c.kind === 'weights') {
            const t = [{ name: `w/${label}`, shape, values }];
            const { tensors, stats } = c.apply(t, params);
            expect(tensors).toHaveLength(1);
            expect(tensors[0].name).toBe(`w/${label}`);
            expect(tensors[0].shape).toEqual(shape);
            expect(tensors[0].values.length, what).toBe(values.length);
            expect(hasNaN(tensors[0].values), what).toBe(false);
            expect(tensors[0].values).not.toBe(values);
            expect(values).toEqual(before);
            expect(stats.weightsTotal).toBe(values.length);
            expect(stats.weightsChanged).toBeGreaterThanOrEqual(0);
            expect(stats.weightsChanged).toBeLessThanOrEqual(values.length);
            expect(stats.weightsKept).toBeLessThanOrEqual(values.length);
            if (label === 'zeros') expect(stats.weightsChanged, what).toBe(0);
          } else if (c.kind === 'activations') {
            const range = c.calibrate([values], params);
            expect(Number.isFinite(range.min) && Number.isFinite(range.max)).toBe(true);
            expect(range.min <= 0 && range.max >= 0).toBe(true);
            const x = values.slice();
            c.quantize(x, range, params);
            expect(x.length).toBe(values.length);
            expect(hasNaN(x), what).toBe(false);
            if (label === 'zeros') expect(x).toEqual(before);
            expect(Number.isInteger(c.bits(params))).toBe(true);
          }
        }
      }
    },
  );

  it.skipIf(c.kind !== 'weights')(
    'keeps weights pruned by an earlier stage (ctx.masks) at 0 and returns one mask or quantized tensor per input',
    () => {
      if (c.kind !== 'weights') return;
      const rng = createRng(5);
      for (const params of paramSets(c)) {
        const all = Object.entries(inputs());
        const masks = all.map(([, { values }]) => new Uint8Array(values.length).map(() => (rng.next() < 0.7 ? 1 : 0)));
        // As a pruning stage leaves them: zero wherever the mask is 0.
        const t = all.map(([label, { values, shape }], i) => ({
          name: label,
          shape,
          values: values.map((v, j) => (masks[i][j] ? v : 0)),
        }));
        const r = c.apply(t, params, { masks });
        r.tensors.forEach((out, i) => {
          for (let j = 0; j < out.values.length; j++)
            if (!masks[i][j]) expect(out.values[j], `${out.name} ${JSON.stringify(params)}`).toBe(0);
        });
        if (r.masks) {
          expect(r.masks).toHaveLength(t.length);
          r.masks.forEach((m, i) => m.forEach((v, j) => expect(v <= masks[i][j]).toBe(true)));
        }
        if (r.quantized) expect(r.quantized.map((q) => q.codes.length)).toEqual(t.map((x) => x.values.length));
      }
    },
  );
});
