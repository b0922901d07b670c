import type { ParamValue } from '@squash/core';
import type { ParamSpec } from '@squash/compressors';
import type { PathSegment } from '../spec/locate.js';
import type { ValueExpr, WrittenValue } from '../spec/types.js';

/** An axis longer than this is almost surely a mistake (a step too small), not a sweep. */
export const MAX_AXIS_VALUES = 1000;
/** Linspace and logspace values keep this many significant digits, so keys read cleanly. */
export const SIGNIFICANT_DIGITS = 6;

/** What went wrong expanding one value, at `sub` below the value's own path. */
export interface ValueProblem {
  message: string;
  sub: PathSegment[];
  hint?: string;
}

export interface Expanded {
  values: ParamValue[];
  /** True for range/linspace/logspace: values have no node of their own in the file. */
  generated: boolean;
  problem?: ValueProblem;
}

export function isValueExpr(v: unknown): v is ValueExpr {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Digits after the decimal point of a number as JavaScript prints it (`1e-7` → 7, `0.25` → 2). */
export function decimalsOf(x: number): number {
  const [mantissa, exp] = String(Math.abs(x)).split('e');
  const frac = mantissa!.split('.')[1]?.length ?? 0;
  return Math.max(0, frac - Number(exp ?? 0));
}

/** `x` rounded to `d` decimals, as the number those decimals spell (so 0.1 + 0.2 → 0.3). */
export function roundTo(x: number, d: number): number {
  const r = Number(x.toFixed(Math.min(d, 100)));
  return Object.is(r, -0) ? 0 : r;
}

export function roundSignificant(x: number, digits = SIGNIFICANT_DIGITS): number {
  const r = Number(x.toPrecision(digits));
  return Object.is(r, -0) ? 0 : r;
}

function fail(message: string, sub: PathSegment[], hint?: string): Expanded {
  return { values: [], generated: true, problem: { message, sub, hint } };
}

function tooMany(n: number, sub: PathSegment[]): Expanded {
  return fail(`expands to ${n} values; at most ${MAX_AXIS_VALUES} per axis`, sub, 'use a larger step or fewer values');
}

/** Inclusive range; the step's sign gives the direction. */
function range(r: { start: number; stop: number; step: number }): Expanded {
  const { start, stop, step } = r;
  if (step === 0) return fail('step must not be 0', ['range', 'step']);
  const n = Math.floor((stop - start) / step + 1e-9);
  if (n < 0) {
    const hint = step > 0 ? 'use a negative step to count down' : 'use a positive step to count up';
    return fail(
      `range is empty: start ${start} is ${step > 0 ? 'above' : 'below'} stop ${stop} with step ${step}`,
      ['range'],
      hint,
    );
  }
  if (n + 1 > MAX_AXIS_VALUES) return tooMany(n + 1, ['range']);
  const d = Math.max(decimalsOf(start), decimalsOf(step));
  return { values: Array.from({ length: n + 1 }, (_, i) => roundTo(start + i * step, d)), generated: true };
}

/** `num` evenly spaced numbers from start to stop (both included); one number is `start`. */
function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : start + ((stop - start) * i) / (num - 1)));
}

function integersOnly(
  values: ParamValue[],
  spec: ParamSpec | undefined,
  param: string,
  kind: string,
): ValueProblem | undefined {
  if (spec?.type !== 'integer') return undefined;
  const bad = values.find((v) => typeof v === 'number' && !Number.isInteger(v));
  if (bad === undefined) return undefined;
  return {
    message: `${param} takes integers, but this ${kind} gives ${bad}`,
    sub: [kind],
    hint: `values: ${values.join(', ')}`,
  };
}

function generate(expr: ValueExpr, spec: ParamSpec | undefined, param: string): Expanded {
  if ('range' in expr) {
    // The schema already asks an integer param's range for integers; this guards unparsed input.
    const r = range(expr.range);
    const problem = r.problem ?? integersOnly(r.values, spec, param, 'range');
    return problem ? { values: [], generated: true, problem } : r;
  }
  if ('linspace' in expr) {
    const { start, stop, num } = expr.linspace;
    if (num > MAX_AXIS_VALUES) return tooMany(num, ['linspace', 'num']);
    const values = linspace(start, stop, num).map((v) => roundSignificant(v));
    const problem = integersOnly(values, spec, param, 'linspace');
    return problem ? { values: [], generated: true, problem } : { values, generated: true };
  }
  const { start, stop, num, base = 10 } = expr.logspace;
  if (base === 1) return fail('base must not be 1 (every value would be 1)', ['logspace', 'base']);
  if (num > MAX_AXIS_VALUES) return tooMany(num, ['logspace', 'num']);
  const values = linspace(start, stop, num).map((e) => roundSignificant(base ** e));
  const bad = values.find((v) => !Number.isFinite(v) || v === 0);
  if (bad !== undefined)
    return fail(`${base}^${bad === 0 ? 'start' : 'stop'} is out of floating-point range`, ['logspace']);
  const problem = integersOnly(values, spec, param, 'logspace');
  return problem ? { values: [], generated: true, problem } : { values, generated: true };
}

/**
 * The values of one axis: a scalar is one value, a list its elements, an expression what it
 * generates. `spec` (the param's declaration) makes integer params reject fractional values.
 */
export function expandValues(v: WrittenValue, spec?: ParamSpec, param = 'value'): Expanded {
  if (Array.isArray(v)) return { values: v, generated: false };
  if (isValueExpr(v)) return generate(v, spec, param);
  return { values: [v], generated: false };
}
