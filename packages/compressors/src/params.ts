import { ConfigError, SpecError } from '@squash/core';
import type { Compressor, ParamSpec, Params } from './compressor.js';
import { didYouMean } from '@squash/core';

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}' (string)`;
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (typeof v === 'boolean') return `${v} (boolean)`;
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v) ?? String(v);
}

/** "in (0, 1]", "> 0", "in [2, 16]", "<= 5", or "" when unbounded. */
function bounds(spec: ParamSpec): string {
  const lo =
    spec.exclusiveMinimum !== undefined
      ? { v: spec.exclusiveMinimum, open: true }
      : spec.minimum !== undefined
        ? { v: spec.minimum, open: false }
        : undefined;
  const hi = spec.maximum;
  if (lo && hi !== undefined) return `in ${lo.open ? '(' : '['}${lo.v}, ${hi}]`;
  if (lo) return `${lo.open ? '>' : '>='} ${lo.v}`;
  if (hi !== undefined) return `<= ${hi}`;
  return '';
}

function inBounds(spec: ParamSpec, v: number): boolean {
  if (spec.exclusiveMinimum !== undefined && !(v > spec.exclusiveMinimum)) return false;
  if (spec.minimum !== undefined && !(v >= spec.minimum)) return false;
  if (spec.maximum !== undefined && !(v <= spec.maximum)) return false;
  return true;
}

/** What a spec asks for in words, e.g. "an integer in [2, 16]" or "a number > 0". */
export function expected(spec: ParamSpec): string {
  const b = bounds(spec);
  switch (spec.type) {
    case 'integer':
      return `an integer${b ? ` ${b}` : ''}`;
    case 'number':
      return `a number${b ? ` ${b}` : ''}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      return spec.enum ? `one of: ${spec.enum.join(', ')}` : 'a string';
  }
}

function checkOne(name: string, spec: ParamSpec, v: unknown): string | undefined {
  const want = expected(spec);
  switch (spec.type) {
    case 'number':
    case 'integer':
      if (typeof v !== 'number' || !Number.isFinite(v)) return `${name} must be ${want}, got ${show(v)}`;
      if (spec.type === 'integer' && !Number.isInteger(v)) return `${name} must be ${want}, got ${show(v)}`;
      if (!inBounds(spec, v)) return `${name} must be ${bounds(spec)}, got ${show(v)}`;
      return undefined;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `${name} must be ${want}, got ${show(v)}`;
    case 'string':
      if (typeof v !== 'string') return `${name} must be ${want}, got ${show(v)}`;
      if (spec.enum && !spec.enum.includes(v)) {
        const near = didYouMean(v, spec.enum);
        return `${name} must be ${want}, got ${show(v)}${near ? `; did you mean '${near}'?` : ''}`;
      }
      return undefined;
  }
}

const at = (path: string, name: string): string => (path ? `${path}.${name}` : name);

/**
 * The generic half of every compressor's `validate`: unknown names (with a "did you mean"
 * hint for typos), missing required parameters, types, bounds and enums. A required parameter
 * that an unknown name is a likely typo of is not reported again as missing — one fix, one error.
 */
export function validateParams(spec: Record<string, ParamSpec>, params: Params, path: string): ConfigError[] {
  const errors: ConfigError[] = [];
  const known = Object.keys(spec);
  const suggested = new Set<string>();
  for (const name of Object.keys(params)) {
    if (Object.hasOwn(spec, name)) continue;
    const near = didYouMean(name, known);
    if (near) suggested.add(near);
    errors.push(
      new ConfigError(
        `unknown parameter '${name}'; expected ${known.length ? `one of: ${known.join(', ')}` : 'no parameters'}`,
        { location: { path: at(path, name) }, hint: near ? `did you mean '${near}'?` : undefined },
      ),
    );
  }
  for (const [name, s] of Object.entries(spec)) {
    const v = Object.hasOwn(params, name) ? params[name] : undefined;
    if (v === undefined) {
      if (s.required && !suggested.has(name)) {
        errors.push(
          new ConfigError(`missing required parameter '${name}' (${expected(s)})`, {
            location: { path: at(path, name) },
            hint: s.description,
          }),
        );
      }
      continue;
    }
    const problem = checkOne(name, s, v);
    if (problem) errors.push(new ConfigError(problem, { location: { path: at(path, name) } }));
  }
  return errors;
}

/** For `apply`/`quantize` called without a prior `validate`: fail loudly, located at the compressor. */
export function assertValid(c: Compressor, params: Params): void {
  const errors = c.validate(params, c.name);
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new SpecError(errors);
}

/** The params with every declared default filled in where a param is omitted. */
export function withDefaults(spec: Record<string, ParamSpec>, params: Params): Params {
  const out: Params = { ...params };
  for (const [name, s] of Object.entries(spec))
    if (s.default !== undefined && !Object.hasOwn(out, name)) out[name] = s.default;
  return out;
}

/** The params without those written at their declared default: the same computation, one canonical form. */
export function withoutDefaults(spec: Record<string, ParamSpec>, params: Params): Params {
  const out: Params = {};
  for (const [name, v] of Object.entries(params)) {
    const d = Object.hasOwn(spec, name) ? spec[name]!.default : undefined;
    if (d === undefined || v !== d) out[name] = v;
  }
  return out;
}
