import type { ParamSpec } from '@squash/compressors';

export type Schema = Record<string, unknown>;

/** One value of a param, with its type, bounds and choices. */
export function scalarSchema(p: ParamSpec & { exclusiveMaximum?: number }): Schema {
  const s: Schema = { type: p.type, description: p.description };
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'enum', 'default'] as const)
    if (p[k] !== undefined) s[k] = p[k];
  return s;
}

/** The title pruneAnyOf shows in "expected number, list or range/linspace/logspace". */
export const EXPR_TITLE = 'range/linspace/logspace';

/**
 * A generated axis: `{ range: {start, stop, step} }`, `{ linspace: {start, stop, num} }` or
 * `{ logspace: {start, stop, num, base} }`. An integer param's range takes integers only.
 */
export function exprSchema(type: 'number' | 'integer'): Schema {
  const n = { type: 'number' };
  const num = { type: 'integer', minimum: 1, description: 'how many values' };
  return {
    title: EXPR_TITLE,
    type: 'object',
    minProperties: 1,
    maxProperties: 1,
    additionalProperties: false,
    properties: {
      range: {
        description:
          'start, start+step, … up to stop inclusive; values rounded to the decimals of start and step (0.1, 0.2, 0.3 exactly)',
        type: 'object',
        additionalProperties: false,
        required: ['start', 'stop', 'step'],
        properties: { start: { type }, stop: { type }, step: { type, description: 'negative to count down' } },
      },
      linspace: {
        description: 'num evenly spaced values from start to stop, both included (6 significant digits)',
        type: 'object',
        additionalProperties: false,
        required: ['start', 'stop', 'num'],
        properties: { start: n, stop: n, num },
      },
      logspace: {
        description: 'num values from base^start to base^stop, evenly spaced in exponent (6 significant digits)',
        type: 'object',
        additionalProperties: false,
        required: ['start', 'stop', 'num'],
        properties: {
          start: n,
          stop: n,
          num,
          base: { type: 'number', exclusiveMinimum: 0, description: 'default 10' },
        },
      },
    },
  };
}

/**
 * The two expression schemas, under the experiment schema's `definitions`: every numeric param
 * refers to one (`exprRef`) instead of repeating it, so ajv compiles each once (a hundred params
 * take expressions) and the schema file stays small.
 */
export const EXPR_DEFINITIONS: Schema = { numberExpr: exprSchema('number'), integerExpr: exprSchema('integer') };

/** A reference to an expression schema; `title` and `type` beside it are what pruneAnyOf reads. */
export const exprRef = (type: 'number' | 'integer'): Schema => ({
  title: EXPR_TITLE,
  type: 'object',
  $ref: `#/definitions/${type}Expr`,
});

/** A param takes one value, a non-empty list (an axis), or (numbers) a range/linspace/logspace. */
export function axisSchema(p: ParamSpec & { exclusiveMaximum?: number }): Schema {
  const one = scalarSchema(p);
  const branches: Schema[] = [one, { type: 'array', minItems: 1, items: one }];
  if (p.type === 'number' || p.type === 'integer') branches.push(exprRef(p.type));
  // `default` beside the description: what an editor offers, and what omitting the param means.
  return { anyOf: branches, description: p.description, ...(p.default !== undefined ? { default: p.default } : {}) };
}

/** `layers:` of a compressor: per-layer overrides, or `each` for a layer axis. */
export function layersSchema(params: Record<string, ParamSpec>): Schema {
  const overrides: Schema = {
    type: 'array',
    minItems: 1,
    description: 'Per-layer settings; the first entry whose `match` fits a layer name wins.',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['match'],
      properties: {
        match: {
          type: 'string',
          minLength: 1,
          description: 'layer name, `*` matches any characters (e.g. dense_*, conv_*)',
        },
        skip: { type: 'boolean', description: 'leave matching layers uncompressed' },
        ...Object.fromEntries(Object.entries(params).map(([k, p]) => [k, scalarSchema(p)])),
      },
    },
  };
  const each: Schema = {
    title: "'each'",
    enum: ['each'],
    description: 'a layer axis: one trial per weight layer, compressing that layer alone',
  };
  return {
    anyOf: [overrides, each],
    description: 'Per-layer overrides, or `each`: sweep the stage over every weight layer, one at a time.',
  };
}

const anyScalar: Schema = { type: ['number', 'string', 'boolean'] };

/** `zip:` and `exclude:` of a sweep; axis references are checked by the grid module (with suggestions). */
export const ZIP_SCHEMA: Schema = {
  type: 'array',
  minItems: 1,
  description:
    'Groups of axes (`stage.param`) that advance together, value by value, instead of being crossed; equal lengths.',
  items: { type: 'array', minItems: 2, items: { type: 'string', minLength: 1 } },
};

export const EXCLUDE_SCHEMA: Schema = {
  type: 'array',
  minItems: 1,
  description:
    'Points to drop: an entry drops every point whose axes (`stage.param`) have the given values (a list: any of them).',
  items: {
    type: 'object',
    minProperties: 1,
    additionalProperties: { anyOf: [anyScalar, { type: 'array', minItems: 1, items: anyScalar }] },
  },
};
