import { ConfigError, SpecError } from '@squash/core';
import {
  type Activation,
  INPUT,
  type LayerSpec,
  type LayerType,
  MERGE_LAYERS,
  type ModelSpec as SqzModelSpec,
  type Padding,
  SPATIAL,
} from '@squash/sqz/spec';

// The layer types and graph constants are @squash/sqz's, which decodes the same specs from a .sqz file.
export type { Activation, LayerCommon, LayerSpec, LayerType, Pad2, Padding, Size2 } from '@squash/sqz/spec';
export { INPUT, MERGE_LAYERS, SPATIAL };

/** Every activation function, in the order the schema lists them. */
export const ACTIVATIONS = [
  'relu',
  'relu6',
  'elu',
  'selu',
  'softmax',
  'linear',
  'tanh',
  'sigmoid',
  'hardSigmoid',
  'softplus',
  'softsign',
  'swish',
] as const satisfies readonly Activation[];
export const PADDINGS = ['valid', 'same'] as const satisfies readonly Padding[];
/** Never, unless sqz learns an activation or padding the tables above do not list. */
export type UnlistedEnumValue =
  | Exclude<Activation, (typeof ACTIVATIONS)[number]>
  | Exclude<Padding, (typeof PADDINGS)[number]>;

/** Where a model read from a TensorFlow.js Layers file came from. */
export interface ModelSource {
  /** model.json as the experiment wrote it (relative to the experiment file). */
  path: string;
  /** Its absolute path when the experiment was read (not part of ids: the content is). */
  file: string;
  /** Content hash of model.json and its weight shards. */
  sha256: string;
  /** The baseline starts from the file's weights (default), or from fresh seeded ones. */
  init?: 'file' | 'random';
}

export interface ModelSpec extends SqzModelSpec {
  /** Set for a model read from a file: its layers are the file's, its weights the baseline's start. */
  source?: ModelSource;
}

/** How one field of a layer is written; the runner's JSON Schema is generated from this table. */
export interface LayerField {
  kind:
    | 'positiveInt'
    | 'size2'
    | 'enum'
    | 'boolean'
    | 'fraction'
    | 'positiveNumber'
    | 'unitInterval'
    | 'pad2'
    | 'shape';
  values?: readonly string[];
  required?: boolean;
  description: string;
  /** What an omitted field means, when it is one fixed value (tfjs' own default for the layer). */
  default?: string | number | boolean;
}

const activation: LayerField = { kind: 'enum', values: ACTIVATIONS, default: 'linear', description: 'default linear' };
const useBias: LayerField = { kind: 'boolean', default: true, description: 'add a bias (default true)' };
const kernelSize: LayerField = { kind: 'size2', required: true, description: 'n or [height, width]' };
const strides: LayerField = { kind: 'size2', default: 1, description: 'n or [height, width] (default 1)' };
const padding: LayerField = {
  kind: 'enum',
  values: PADDINGS,
  default: 'valid',
  description: "'valid' (no padding, default) or 'same'",
};
const depthMultiplier: LayerField = {
  kind: 'positiveInt',
  default: 1,
  description: 'output channels per input channel (default 1)',
};
const pool: Record<string, LayerField> = {
  poolSize: { kind: 'size2', required: true, description: 'n or [height, width]' },
  strides: { kind: 'size2', description: 'n or [height, width] (default poolSize)' },
  padding,
};

/** Every layer type and its fields: the single source for validation, the schema and the docs. */
export const LAYER_FIELDS: Record<LayerType, Record<string, LayerField>> = {
  flatten: {},
  dense: { units: { kind: 'positiveInt', required: true, description: 'output units' }, activation, useBias },
  conv2d: {
    filters: { kind: 'positiveInt', required: true, description: 'output channels' },
    kernelSize,
    strides,
    padding,
    activation,
    useBias,
  },
  depthwiseConv2d: { kernelSize, strides, padding, depthMultiplier, activation, useBias },
  separableConv2d: {
    filters: { kind: 'positiveInt', required: true, description: 'output channels' },
    kernelSize,
    strides,
    padding,
    depthMultiplier,
    activation,
    useBias,
  },
  maxPool2d: pool,
  avgPool2d: pool,
  globalAvgPool2d: {},
  globalMaxPool2d: {},
  batchNorm: {
    epsilon: { kind: 'positiveNumber', default: 0.001, description: 'added to the variance (default 0.001)' },
    momentum: { kind: 'unitInterval', default: 0.99, description: 'moving-average momentum (default 0.99)' },
    center: { kind: 'boolean', default: true, description: 'learn an offset beta (default true)' },
    scale: { kind: 'boolean', default: true, description: 'learn a scale gamma (default true)' },
  },
  dropout: { rate: { kind: 'fraction', required: true, description: 'fraction of inputs dropped in training' } },
  activation: { activation: { ...activation, required: true, default: undefined, description: 'the function' } },
  add: {},
  concatenate: {},
  zeroPadding2d: {
    pad: { kind: 'pad2', required: true, description: 'n, [height, width] or [[top, bottom], [left, right]]' },
  },
  reshape: {
    targetShape: { kind: 'shape', required: true, description: 'per-sample shape; one entry may be -1' },
  },
};

export const LAYER_TYPES = Object.keys(LAYER_FIELDS) as LayerType[];

/**
 * The TensorFlow.js Layers class each type is built as (and saved as in a model.json): the forward
 * pass reads a built model's layers by it, and the model-file reader converts it back to the type.
 */
export const LAYER_CLASSES: Record<LayerType, string> = {
  flatten: 'Flatten',
  dense: 'Dense',
  conv2d: 'Conv2D',
  depthwiseConv2d: 'DepthwiseConv2D',
  separableConv2d: 'SeparableConv2D',
  maxPool2d: 'MaxPooling2D',
  avgPool2d: 'AveragePooling2D',
  globalAvgPool2d: 'GlobalAveragePooling2D',
  globalMaxPool2d: 'GlobalMaxPooling2D',
  batchNorm: 'BatchNormalization',
  dropout: 'Dropout',
  activation: 'Activation',
  add: 'Add',
  concatenate: 'Concatenate',
  zeroPadding2d: 'ZeroPadding2D',
  reshape: 'Reshape',
};

/** Whether a written field value is its declared default (a square size2 `[d, d]` is `d`). */
function isDefault(field: LayerField, v: unknown): boolean {
  if (field.default === undefined) return false;
  if (Array.isArray(v)) return field.kind === 'size2' && v.length === 2 && v.every((x) => x === field.default);
  return v === field.default;
}

/**
 * The spec as ids hash it: layer fields written at their declared default left out, so writing a
 * default or omitting it is one model (and a spec that writes none hashes as it always did).
 */
export function canonicalModelSpec(spec: ModelSpec): ModelSpec {
  // A file model is its content: the layers are read from it, and where it lies does not matter.
  if (spec.source)
    return { source: { sha256: spec.source.sha256, init: spec.source.init ?? 'file' } } as unknown as ModelSpec;
  return {
    ...spec,
    layers: spec.layers.map((layer) => {
      const fields: Record<string, LayerField> = LAYER_FIELDS[layer.type] ?? {};
      const kept = Object.entries(layer).filter(([k, v]) => !(Object.hasOwn(fields, k) && isDefault(fields[k]!, v)));
      return Object.fromEntries(kept) as LayerSpec;
    }),
  };
}

/**
 * One problem with a model spec; `path` is relative to the spec (`['layers', 2, 'kernelSize']`).
 * `key` names a field that should not be there (the problem is the key, not its value).
 */
export interface ModelProblem {
  path: Array<string | number>;
  key?: string;
  message: string;
}

const isPositiveInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isNonNegInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v)));

function fieldProblem(type: string, name: string, f: LayerField, v: unknown): string | undefined {
  const ok = (cond: boolean, expected: string) =>
    cond ? undefined : `${type} ${name} must be ${expected}, got ${show(v)}`;
  switch (f.kind) {
    case 'positiveInt':
      return ok(isPositiveInt(v), 'a positive integer');
    case 'size2':
      return ok(
        isPositiveInt(v) || (Array.isArray(v) && v.length === 2 && v.every(isPositiveInt)),
        'a positive integer or [height, width] of positive integers',
      );
    case 'enum':
      return f.values!.includes(v as string)
        ? undefined
        : `unknown ${name} ${show(v)}; expected one of ${f.values!.join(', ')}`;
    case 'boolean':
      return ok(typeof v === 'boolean', 'true or false');
    case 'fraction':
      return ok(isNumber(v) && v >= 0 && v < 1, 'a number in [0, 1)');
    case 'unitInterval':
      return ok(isNumber(v) && v >= 0 && v <= 1, 'a number in [0, 1]');
    case 'positiveNumber':
      return ok(isNumber(v) && v > 0, 'a positive number');
    case 'pad2':
      return ok(
        isNonNegInt(v) ||
          (Array.isArray(v) &&
            v.length === 2 &&
            (v.every(isNonNegInt) || v.every((p) => Array.isArray(p) && p.length === 2 && p.every(isNonNegInt)))),
        'n, [height, width] or [[top, bottom], [left, right]] of non-negative integers',
      );
    case 'shape':
      return ok(
        Array.isArray(v) &&
          v.length >= 1 &&
          v.every((d) => isPositiveInt(d) || d === -1) &&
          v.filter((d) => d === -1).length <= 1,
        'a list of positive integers (one may be -1)',
      );
  }
}

/** What a layer's output is, as far as order checks can tell without the input shape. */
type Form = 'image' | 'flat' | 'unknown';
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Every problem with a model spec, without knowing the input shape: layer types, fields (unknown,
 * missing, wrong value), names and inputs of the graph form, and order (a convolution or pool
 * cannot read a flattened vector; a dense layer after them needs a flatten first). Shapes are
 * checked by `planLayers` once the data's shape is known.
 */
export function modelSpecProblems(spec: ModelSpec): ModelProblem[] {
  const problems: ModelProblem[] = [];
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) {
    return [{ path: ['layers'], message: 'a model needs a non-empty list of layers' }];
  }
  const forms = new Map<string, { form: Form; type: string }>([[INPUT, { form: 'unknown', type: 'input' }]]);
  let previous: string = INPUT;
  spec.layers.forEach((l, i) => {
    const at = (...rest: Array<string | number>) => ['layers', i, ...rest];
    const type = (l as { type?: unknown })?.type;
    if (typeof type !== 'string' || !(LAYER_TYPES as string[]).includes(type)) {
      problems.push({
        path: at(),
        message: `unknown layer type ${show(type)}; expected one of ${LAYER_TYPES.join(', ')}`,
      });
      return;
    }
    const fields = LAYER_FIELDS[type as LayerType];
    for (const [name, v] of Object.entries(l)) {
      if (name === 'type' || name === 'name' || name === 'inputs') continue;
      const f = fields[name];
      if (!f) {
        const known = Object.keys(fields);
        problems.push({
          path: at(),
          key: name,
          message: `unknown field '${name}' for a ${type} layer; expected ${known.length ? `one of ${known.join(', ')}` : 'none'}`,
        });
        continue;
      }
      const p = v === undefined ? undefined : fieldProblem(type, name, f, v);
      if (p) problems.push({ path: at(name), message: p });
    }
    for (const [name, f] of Object.entries(fields)) {
      if (f.required && (l as unknown as Record<string, unknown>)[name] === undefined) {
        problems.push({ path: at(), message: `${type} needs '${name}' (${f.description})` });
      }
    }
    const own = l.name;
    if (own !== undefined && (typeof own !== 'string' || !NAME_PATTERN.test(own) || own === INPUT)) {
      problems.push({
        path: at('name'),
        message: `layer name ${show(own)} must be letters, digits, '_', '.', '-' (not starting with a digit) and not '${INPUT}'`,
      });
    } else if (own !== undefined && forms.has(own)) {
      problems.push({ path: at('name'), message: `layer name '${own}' is used twice` });
    }
    const inputs = l.inputs ?? [previous];
    if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((n) => typeof n === 'string')) {
      problems.push({ path: at('inputs'), message: `inputs must be a non-empty list of layer names or '${INPUT}'` });
      return;
    }
    const merge = MERGE_LAYERS.includes(type as LayerType);
    if (merge ? inputs.length < 2 : inputs.length !== 1) {
      problems.push({
        path: at('inputs'),
        message: merge
          ? `${type} reads two or more layers, got ${inputs.length}`
          : `${type} reads one layer, got ${inputs.length} (${inputs.join(', ')})`,
      });
    }
    const read = inputs.map((n) => {
      const f = forms.get(n);
      if (!f)
        problems.push({
          path: at('inputs'),
          message: `no layer named '${n}' before this one; inputs name earlier layers or '${INPUT}'`,
        });
      return f;
    });
    const from = read.find((f) => f && f.form !== 'unknown') ?? read[0];
    let form: Form = from?.form ?? 'unknown';
    if (SPATIAL.includes(type as LayerType)) {
      if (form === 'flat')
        problems.push({
          path: at(),
          message: `${type} cannot follow a ${from!.type} layer: convolutions and pools come first`,
        });
      form = type.startsWith('global') ? 'flat' : 'image';
    } else if (type === 'dense') {
      if (form === 'image')
        problems.push({ path: at(), message: `dense after ${from!.type} needs a { type: flatten } layer first` });
      form = 'flat';
    } else if (type === 'flatten') form = 'flat';
    else if (type === 'reshape') form = 'unknown';
    const name = typeof own === 'string' ? own : `#${i}`;
    // Messages name the layer that made the output flat or spatial, not a dropout or activation after it.
    const setsForm = SPATIAL.includes(type as LayerType) || ['dense', 'flatten', 'reshape'].includes(type);
    forms.set(name, { form, type: setsForm || !from ? type : from.type });
    previous = name;
  });
  return problems;
}

/** A ConfigError for each problem, located under `prefix` (`model`, `models.student`). */
export function modelSpecErrors(spec: ModelSpec, prefix = 'model'): ConfigError[] {
  return modelSpecProblems(spec).map(
    (p) =>
      new ConfigError(p.message, { location: { path: formatPath([prefix, ...p.path, ...(p.key ? [p.key] : [])]) } }),
  );
}

export function formatPath(path: Array<string | number>): string {
  return path.reduce<string>((s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s ? `${s}.${seg}` : seg), '');
}

/** Throws the spec's problems: one ConfigError, or a SpecError listing several. */
export function assertModelSpec(spec: ModelSpec, prefix = 'model'): void {
  const errors = modelSpecErrors(spec, prefix);
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new SpecError(errors);
}
