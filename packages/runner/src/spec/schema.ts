import { datasetRegistry } from '@squash/datasets';
import { LAYER_FIELDS, LAYER_TYPES, modelRegistry, type LayerField } from '@squash/trainer/specs';
import { optimizerParams } from '../stages/params.js';
import { getStage, stageNames } from '../stages/registry.js';
import { TRAIN_FIELD_NAMES, TRAIN_FIELDS } from './train_fields.js';
import { SEARCH_METRIC_NAMES } from '../search/constraint.js';
import { SEARCH_STRATEGIES } from '../search/types.js';
import {
  axisSchema,
  EXCLUDE_SCHEMA,
  EXPR_DEFINITIONS,
  layersSchema,
  scalarSchema,
  ZIP_SCHEMA,
  type Schema,
} from './schema_values.js';

/**
 * # Experiment files and their grids (full guide with examples: packages/runner/SWEEPS.md)
 *
 * ```yaml
 * name: lenet-sweeps
 * model: lenet-300-100
 * dataset: { name: mnist }
 * repeats: 3                       # = seeds: [1, 2, 3]; one baseline per seed (not both)
 * defaults:                        # single values merged under every sweep's stage (the sweep wins)
 *   finetune: { epochs: 2 }
 * sweeps:
 *   - name: prune-quantize
 *     stages:
 *       - prune-weights: { retention: { range: { start: 0.1, stop: 0.5, step: 0.1 } } }
 *       - quantize-weights: { bits: [8, 6, 4, 3, 2] }
 *       - finetune: {}
 *     zip: [[prune-weights.retention, quantize-weights.bits]]   # 5 pairs, not 25 points
 *     exclude:
 *       - { prune-weights.retention: 0.5, quantize-weights.bits: 2 }
 *   - name: sensitivity            # each weight layer pruned alone, at each retention
 *     stages:
 *       - prune-weights: { retention: [0.5, 0.2, 0.1], layers: each }
 * ```
 *
 * - A stage param is a value, a list (an axis), or for numbers an expression:
 *   `{ range: { start, stop, step } }` (inclusive; values rounded to the decimals of start and
 *   step, so 0.1…0.3 step 0.1 is exactly 0.1, 0.2, 0.3; a negative step counts down),
 *   `{ linspace: { start, stop, num } }`, `{ logspace: { start, stop, num, base: 10 } }`
 *   (base^start … base^stop); linspace/logspace values keep 6 significant digits. An integer
 *   param needs integer values (a range's start/stop/step are integers; a linspace/logspace that
 *   gives a fraction is an error).
 * - A sweep's grid is the cartesian product of all its axes, first axis slowest. Axes are named
 *   `stage.param` (`index.param`, 0-based as in `stages[1]`, when a stage name repeats); the layer
 *   axis of `layers: each` is `stage.layer`.
 * - `zip:` groups axes that advance together (equal lengths); `exclude:` entries drop the points
 *   matching all their values (a list matches any of its values). Naming an unknown axis or value,
 *   or an entry matching no point, is an error, as is a sweep that ends with no point.
 * - `layers: each` on a compressor stage: one trial per weight layer (conv_1, …, dense_1, dense_2,
 *   … of the model, or of the distilled student after a `distill` stage), that layer compressed alone.
 * - Every point is checked by the stage's own rules (e.g. bits for a scheme); drop invalid
 *   combinations with `exclude:`.
 * - `train:` fields (epochs or iterations, batchSize, learningRate, validationSplit and the
 *   trainer's OPTIMIZER_FIELDS) are axes too: one baseline per point of their product, each
 *   crossed with every trial. Training stages take the optimizer fields, inheriting `train:`'s.
 */

/** `defaults:` — per stage name, single param values shared by every sweep. */
function defaultsSchema(): Schema {
  const properties = Object.fromEntries(
    stageNames().map((name) => [
      name,
      {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(
          Object.entries(getStage(name).params).map(([k, p]) => [
            k,
            optimizerParams[k] === p ? { $ref: `#/definitions/optimizerValue/${k}` } : scalarSchema(p),
          ]),
        ),
      },
    ]),
  );
  return {
    type: 'object',
    additionalProperties: false,
    description:
      "Stage params shared by all sweeps: single values merged under each sweep's stage of that name (the sweep wins).",
    properties,
  };
}

/** A stage is a one-key object: the compressor's or training stage's name mapping to its parameters. */
function stageSchema(): Schema {
  const properties = Object.fromEntries(
    stageNames().map((name) => {
      const stage = getStage(name);
      // Required params are checked after `defaults:` are merged in (rules.ts), not here.
      const props: Schema = Object.fromEntries(
        Object.entries(stage.params).map(([k, p]) => [
          k,
          optimizerParams[k] === p ? { $ref: `#/definitions/optimizerAxis/${k}` } : axisSchema(p),
        ]),
      );
      if (stage.layerParams) props.layers = layersSchema(stage.layerParams);
      return [name, { type: 'object', description: stage.description, additionalProperties: false, properties: props }];
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

const positiveInt = { type: 'integer', minimum: 1 };
const nonNegativeInt = { type: 'integer', minimum: 0 };
const pairOf = (items: Schema): Schema => ({ type: 'array', minItems: 2, maxItems: 2, items });

function layerFieldSchema(f: LayerField): Schema {
  const description = f.description;
  switch (f.kind) {
    case 'positiveInt':
      return { ...positiveInt, description };
    case 'size2':
      return { description, anyOf: [positiveInt, pairOf(positiveInt)] };
    case 'enum':
      return { enum: [...f.values!], description };
    case 'boolean':
      return { type: 'boolean', description };
    case 'fraction':
      return { type: 'number', minimum: 0, exclusiveMaximum: 1, description };
    case 'unitInterval':
      return { type: 'number', minimum: 0, maximum: 1, description };
    case 'positiveNumber':
      return { type: 'number', exclusiveMinimum: 0, description };
    case 'pad2':
      return { description, anyOf: [nonNegativeInt, pairOf(nonNegativeInt), pairOf(pairOf(nonNegativeInt))] };
    case 'shape':
      return { type: 'array', minItems: 1, items: { type: 'integer', minimum: -1, not: { const: 0 } }, description };
  }
}

/**
 * One layer of an inline model, from the trainer's LAYER_FIELDS table: the union of every type's
 * fields (a field means the same in each type that has it). Which fields a type needs or allows is
 * checked by the `inlineModels` rule with the trainer's own validation.
 */
function layerSchema(): Schema {
  const properties: Record<string, Schema> = {
    type: { enum: [...LAYER_TYPES] },
    name: { type: 'string', minLength: 1, description: 'the layer name (default <kind>_<n>: conv_1, dense_2, …)' },
    inputs: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1 },
      description: "graph form: the layers (or 'input') this layer reads; default the layer before it",
    },
  };
  // Field → its description → the layer types that describe it so ("dense, conv2d: default linear").
  const described = new Map<string, Map<string, string[]>>();
  for (const [type, fields] of Object.entries(LAYER_FIELDS)) {
    for (const [name, f] of Object.entries(fields)) {
      const { description, ...own } = layerFieldSchema(f);
      const known = properties[name];
      if (known && JSON.stringify({ ...known, description: undefined }) !== JSON.stringify(own)) {
        throw new Error(`layer field '${name}' of ${type} differs from another layer type's '${name}'`);
      }
      const texts = described.get(name) ?? new Map<string, string[]>();
      texts.set(description as string, [...(texts.get(description as string) ?? []), type]);
      described.set(name, texts);
      properties[name] = {
        ...own,
        description: [...texts].map(([text, types]) => `${types.join(', ')}: ${text}`).join('; '),
      };
    }
  }
  const needs = Object.entries(LAYER_FIELDS).map(([type, fields]) => {
    const names = Object.entries(fields).map(([n, f]) => (f.required ? n : `${n}?`));
    return names.length ? `${type} (${names.join(', ')})` : type;
  });
  return {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    description: `A layer: ${needs.join('; ')}.`,
    properties,
  };
}

const INLINE_MODEL: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'layers'],
  properties: {
    name: { type: 'string' },
    inputShape: {
      type: 'array',
      minItems: 1,
      items: positiveInt,
      description: 'per-sample input shape the first layer expects (default: the dataset’s)',
    },
    layers: { type: 'array', minItems: 1, items: layerSchema() },
  },
};

const FILE_MODEL: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: {
      type: 'string',
      minLength: 1,
      description: 'a TensorFlow.js Layers model.json (weights beside it), relative to the experiment file',
    },
    name: { type: 'string', minLength: 1, description: 'the name runs record (default: the directory name)' },
    init: {
      enum: ['file', 'random'],
      description:
        "the baseline starts from the file's weights (file, default) or from fresh ones (random; needs train.epochs)",
    },
  },
};

const COMPUTED = ['per-channel', 'global'];

/** A mean or std: a number for every channel, one per channel, or computed from the training split. */
const normalizeValue = (description: string, number: Schema): Schema => ({
  description,
  anyOf: [
    number,
    { type: 'array', title: 'list of numbers', minItems: 1, items: number },
    { enum: COMPUTED, title: `'per-channel' or 'global'` },
  ],
});

const NORMALIZE_SCHEMA: Schema = {
  description:
    "x' = (x · scale − mean) / std per channel (the last axis of [h, w, c] images; one channel otherwise), the same for train and test. 'per-channel' / 'global': mean and std computed from the training split only (never test); or { scale, mean, std } with numbers, lists or those words.",
  anyOf: [
    { enum: COMPUTED, title: `'per-channel' or 'global'` },
    {
      type: 'object',
      title: 'mapping { scale, mean, std }',
      additionalProperties: false,
      properties: {
        scale: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 1,
          description: 'multiplies every value first (e.g. 255 for a model trained on 0–255 pixels)',
        },
        mean: normalizeValue('subtracted after scaling (default 0)', { type: 'number' }),
        std: normalizeValue('divides after the mean (default 1)', { type: 'number', exclusiveMinimum: 0 }),
      },
    },
  ],
};

const AUGMENT_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  description:
    'Training batches only, seeded (same seed, same batches; test, validation and calibration data are never changed); images [h, w] or [h, w, c].',
  properties: {
    crop: {
      type: 'object',
      additionalProperties: false,
      required: ['padding'],
      properties: { padding: { ...nonNegativeInt, description: 'pixels of black added on each side before the crop' } },
      description: 'pad, then crop back to the size at a random offset',
    },
    flip: { type: 'boolean', default: false, description: 'mirror left–right, half the samples' },
    shift: { ...nonNegativeInt, default: 0, description: 'move by up to this many pixels each way, edges repeated' },
  },
};

/** A model written out: `{path}` is a file, anything else an inline `{name, layers}`. */
// biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited.
const MODEL_OBJECT: Schema = { type: 'object', if: { required: ['path'] }, then: FILE_MODEL, else: INLINE_MODEL };

const SEARCH_SCHEMA = {
  type: 'object',
  title: 'search',
  additionalProperties: false,
  required: ['name', 'objective', 'pipeline'],
  properties: {
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
      description: "the search's name: its trials' sweep",
    },
    objective: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      description: `{ minimize: <metric> } or { maximize: <metric> }, or a weighted sum { minimize: { <metric>: <weight>, … } }; metrics: ${SEARCH_METRIC_NAMES.join(', ')}`,
      properties: Object.fromEntries(
        ['minimize', 'maximize'].map((k) => [
          k,
          {
            anyOf: [{ type: 'string' }, { type: 'object', minProperties: 1, additionalProperties: { type: 'number' } }],
          },
        ]),
      ),
    },
    constraints: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description:
        "e.g. 'accuracy >= baseline.accuracy - 0.003' or 'artifact_bytes <= 30000': accuracy and loss are read on the validation split",
    },
    pipeline: {
      type: 'array',
      minItems: 1,
      description:
        'Stages whose params may be spaces: a list (one of), { min, max, log?, integer? }, or { per-layer: <list or range> }',
      items: {
        type: 'object',
        minProperties: 1,
        maxProperties: 1,
        additionalProperties: { type: 'object' },
      },
    },
    budget: {
      type: 'object',
      additionalProperties: false,
      properties: {
        trials: { type: 'integer', minimum: 1, maximum: 10000, description: 'candidates to run at most (default 40)' },
        minutes: { type: 'number', exclusiveMinimum: 0, description: 'no new batch starts after this many minutes' },
      },
    },
    strategy: { enum: [...SEARCH_STRATEGIES], description: 'sensitivity (default) or random (the yardstick)' },
    batch: { type: 'integer', minimum: 1, maximum: 256, description: 'candidates proposed at once (default 4)' },
    seed: { type: 'integer', description: "the strategy's seed (default: the experiment's)" },
  },
};

/**
 * The JSON Schema of an experiment file, built from the registries so a new compressor, model or
 * dataset appears in it automatically. `schema/experiment.schema.json` is this, written out for
 * editors; a test keeps the file in sync.
 */
export function buildExperimentSchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://squash.dev/schema/experiment.schema.json',
    title: 'Squash experiment',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'model', 'dataset'],
    definitions: {
      ...EXPR_DEFINITIONS,
      // Every training stage's optimizer params, once: ajv compiles a `$ref`'d schema once, not per stage.
      optimizerAxis: Object.fromEntries(Object.entries(optimizerParams).map(([k, p]) => [k, axisSchema(p)])),
      optimizerValue: Object.fromEntries(Object.entries(optimizerParams).map(([k, p]) => [k, scalarSchema(p)])),
    },
    properties: {
      name: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
        description: 'Experiment name; runs are grouped under it.',
      },
      description: { type: 'string' },
      model: {
        description: `A named model (${modelRegistry.names().join(', ')}, or one from \`models:\`), an inline {name, layers}, or a TensorFlow.js Layers file {path}.`,
        anyOf: [{ type: 'string', minLength: 1 }, MODEL_OBJECT],
      },
      models: {
        type: 'object',
        description:
          'Extra named models for this experiment (e.g. distillation students), each {name, layers} or a file {path}.',
        additionalProperties: MODEL_OBJECT,
      },
      dataset: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        description:
          'The data. Fields after path belong to some kinds only (named first in each description); giving one to another kind is an error.',
        properties: {
          name: {
            enum: datasetRegistry.names(),
            description:
              'mnist: the real MNIST; idx: a directory of IDX files; npz: one NumPy .npz; npy: a directory of four .npy files;' +
              ' cifar: the CIFAR-10/100 binary batches; images: train/<class>/ and test/<class>/ image folders; synthetic: tests only.',
          },
          path: {
            type: 'string',
            description: 'idx, npy, cifar, images: the directory; npz: the .npz file. Relative to the experiment file.',
          },
          limits: {
            type: 'object',
            additionalProperties: false,
            properties: { train: positiveInt, test: positiveInt },
            description: 'Use only the first N samples of each split.',
          },
          seed: { type: 'integer' },
          normalize: NORMALIZE_SCHEMA,
          augment: AUGMENT_SCHEMA,
          samples: {
            type: 'object',
            additionalProperties: false,
            properties: { train: positiveInt, test: positiveInt },
          },
          arrays: {
            type: 'object',
            additionalProperties: false,
            description: 'npz, npy: the array names in the file(s), when not x_train, y_train, x_test, y_test.',
            properties: Object.fromEntries(
              ['x_train', 'y_train', 'x_test', 'y_test'].map((role) => [
                role,
                { type: 'string', minLength: 1, description: `the ${role} array's name (default ${role})` },
              ]),
            ),
          },
          numClasses: {
            type: 'integer',
            minimum: 2,
            maximum: 256,
            description: 'npz, npy: the class count (default: the largest training label + 1).',
          },
          channelsFirst: {
            type: 'boolean',
            description:
              "npz, npy: images are stored (N, C, H, W), PyTorch's order; they are transposed to channels-last.",
          },
          labels: {
            enum: ['fine', 'coarse'],
            description: 'cifar (CIFAR-100 only): the 100 fine labels (default) or the 20 coarse superclasses.',
          },
          size: {
            type: 'array',
            minItems: 2,
            maxItems: 2,
            items: positiveInt,
            description:
              'images: [height, width] every image is resized to (default: every image must have the size of the first).',
          },
          channels: {
            enum: [1, 3],
            description: 'images: 3 decodes to RGB (default), 1 to grayscale.',
          },
          resize: {
            type: 'boolean',
            description:
              'images: false requires every image to have dataset.size instead of resizing it (default true).',
          },
        },
      },
      train: {
        type: 'object',
        additionalProperties: false,
        description:
          'How the baseline is trained. Each field is one value, a list or a range/linspace/logspace: one baseline per point of their product, each crossed with every trial. Training stages inherit the optimizer fields.',
        properties: Object.fromEntries(TRAIN_FIELD_NAMES.map((f) => [f, axisSchema(TRAIN_FIELDS[f])])),
      },
      seeds: {
        type: 'array',
        minItems: 1,
        items: { type: 'integer' },
        description: 'One baseline is trained per seed.',
      },
      repeats: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        description: 'Shorthand for seeds: [1, …, repeats] (not with seeds).',
      },
      tags: {
        type: 'object',
        description:
          'Free-form labels recorded on every run of this file (e.g. owner, purpose); they do not change trial ids.',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
      },
      defaults: defaultsSchema(),
      reference: {
        type: 'object',
        description:
          "Published numbers to compare with (e.g. a paper's table); `squash report` shows them beside the measured ones.",
        additionalProperties: false,
        required: ['rows'],
        properties: {
          source: { type: 'string', description: 'where the numbers come from' },
          rows: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'metrics'],
              properties: {
                name: { type: 'string', minLength: 1, description: 'the row as the source names it' },
                sweep: {
                  type: 'string',
                  description: 'the sweep whose runs it compares with (`baseline` for the baseline)',
                },
                params: {
                  type: 'object',
                  description: 'only runs with these param values (e.g. quantize-weights.bits: 5)',
                  additionalProperties: { type: ['string', 'number', 'boolean'] },
                },
                metrics: {
                  type: 'object',
                  minProperties: 1,
                  description: 'published values by metric key (accuracy as a fraction, bytes, ratios)',
                  additionalProperties: { type: 'number' },
                },
              },
            },
          },
        },
      },
      search: {
        description:
          'A search (or a list of searches, run one after the other): candidates proposed by a strategy, each an ordinary trial, under the search name as its sweep.',
        anyOf: [SEARCH_SCHEMA, { type: 'array', minItems: 1, items: SEARCH_SCHEMA }],
      },
      candidates: {
        type: 'array',
        description:
          "Written by 'squash run' for a search's proposals (each an ordinary trial); not for editing by hand.",
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['search', 'stages'],
          // Checked as sweeps' stages are, by the stages' own rules (the runner wrote them from a checked search).
          properties: {
            search: { type: 'string', minLength: 1 },
            stages: { type: 'array', minItems: 1, items: { type: 'object', minProperties: 1, maxProperties: 1 } },
          },
        },
      },
      sweeps: {
        type: 'array',
        description: 'Grids of trials (needed unless search: is given).',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'stages'],
          properties: {
            name: { type: 'string', minLength: 1 },
            stages: { type: 'array', minItems: 1, items: stageSchema() },
            zip: ZIP_SCHEMA,
            exclude: EXCLUDE_SCHEMA,
          },
        },
      },
    },
  };
}
