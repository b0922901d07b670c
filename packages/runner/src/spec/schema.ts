import { compressorRegistry, type ParamSpec } from '@squash/compressors';
import { datasetRegistry } from '@squash/datasets';
import { modelRegistry } from '@squash/trainer';
import { acceptsLayerOverrides, stageNames, stageParams, trainingStageRegistry } from '../stages/registry.js';

type Schema = Record<string, unknown>;

function scalarSchema(p: ParamSpec): Schema {
  const s: Schema = { type: p.type, description: p.description };
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'enum'] as const) if (p[k] !== undefined) s[k] = p[k];
  return s;
}

/** A parameter takes one value, or a non-empty list of values that becomes a grid axis. */
function axisSchema(p: ParamSpec): Schema {
  const one = scalarSchema(p);
  return { anyOf: [one, { type: 'array', minItems: 1, items: one }], description: p.description };
}

function overridesSchema(params: Record<string, ParamSpec>): Schema {
  return {
    type: 'array',
    minItems: 1,
    description: 'Per-layer settings; the first entry whose `match` fits a layer name wins.',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['match'],
      properties: {
        match: { type: 'string', minLength: 1, description: 'layer name, `*` matches any characters (e.g. dense_*)' },
        skip: { type: 'boolean', description: 'leave matching layers uncompressed' },
        ...Object.fromEntries(Object.entries(params).map(([k, p]) => [k, scalarSchema(p)])),
      },
    },
  };
}

/** A stage is a one-key object: the compressor's or training stage's name mapping to its parameters. */
function stageSchema(): Schema {
  const properties = Object.fromEntries(
    stageNames().map((name) => {
      const params = stageParams(name);
      const required = Object.entries(params).filter(([, p]) => p.required).map(([k]) => k);
      const props: Schema = Object.fromEntries(Object.entries(params).map(([k, p]) => [k, axisSchema(p)]));
      if (acceptsLayerOverrides(name)) props.layers = overridesSchema(params);
      return [name, {
        type: 'object',
        description: compressorRegistry.has(name) ? compressorRegistry.get(name).description : trainingStageRegistry.get(name).description,
        additionalProperties: false,
        required,
        properties: props,
      }];
    }),
  );
  return {
    description: 'One pipeline stage: a single key naming the compressor or training stage, mapping to its parameters.',
    type: 'object',
    minProperties: 1,
    maxProperties: 1,
    additionalProperties: false,
    properties,
  };
}

/**
 * The JSON Schema of an experiment file, built from the registries so a new compressor, model or
 * dataset appears in it automatically. `schema/experiment.schema.json` is this, written out for
 * editors; a test keeps the file in sync.
 */
const positiveInt = { type: 'integer', minimum: 1 };
const INLINE_MODEL: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'layers'],
  properties: {
    name: { type: 'string' },
    layers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type'],
        properties: {
          type: { enum: ['flatten', 'dense'] },
          units: positiveInt,
          activation: { enum: ['relu', 'softmax', 'linear', 'tanh', 'sigmoid'] },
        },
      },
    },
  },
};

export function buildExperimentSchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://squash.dev/schema/experiment.schema.json',
    title: 'Squash experiment',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'model', 'dataset', 'sweeps'],
    properties: {
      name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'Experiment name; runs are grouped under it.' },
      description: { type: 'string' },
      model: {
        description: `A named model (${modelRegistry.names().join(', ')}, or one from \`models:\`) or an inline {name, layers}.`,
        anyOf: [{ type: 'string', minLength: 1 }, INLINE_MODEL],
      },
      models: {
        type: 'object',
        description: 'Extra named models for this experiment (e.g. distillation students), each {name, layers}.',
        additionalProperties: INLINE_MODEL,
      },
      dataset: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { enum: datasetRegistry.names(), description: 'mnist: the real MNIST; idx: a directory of IDX files; synthetic: tests only.' },
          path: { type: 'string', description: 'idx only: directory with the four standard IDX files, relative to the experiment file.' },
          limits: {
            type: 'object',
            additionalProperties: false,
            properties: { train: positiveInt, test: positiveInt },
            description: 'Use only the first N samples of each split.',
          },
          seed: { type: 'integer' },
          samples: { type: 'object', additionalProperties: false, properties: { train: positiveInt, test: positiveInt } },
        },
      },
      train: {
        type: 'object',
        additionalProperties: false,
        properties: {
          epochs: positiveInt,
          batchSize: positiveInt,
          learningRate: { type: 'number', exclusiveMinimum: 0 },
          validationSplit: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        },
      },
      seeds: { type: 'array', minItems: 1, items: { type: 'integer' }, description: 'One baseline is trained per seed.' },
      sweeps: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'stages'],
          properties: {
            name: { type: 'string', minLength: 1 },
            stages: { type: 'array', minItems: 1, items: stageSchema() },
          },
        },
      },
    },
  };
}
