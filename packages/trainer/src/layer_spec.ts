import { ConfigError, SpecError } from '@squash/core';

export const ACTIVATIONS = ['relu', 'softmax', 'linear', 'tanh', 'sigmoid'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const PADDINGS = ['valid', 'same'] as const;
/** A square size (5) or [height, width] ([5, 3]). */
export type Size2 = number | [number, number];

/** One layer of a declarative model. Only what the supported models need; each field is checked. */
export type LayerSpec =
  | { type: 'flatten' }
  | { type: 'dense'; units: number; activation?: Activation }
  | {
      type: 'conv2d';
      filters: number;
      kernelSize: Size2;
      strides?: Size2;
      padding?: 'valid' | 'same';
      activation?: Activation;
    }
  | { type: 'maxPool2d'; poolSize: Size2; strides?: Size2 };

export type LayerType = LayerSpec['type'];

export interface ModelSpec {
  name: string;
  layers: LayerSpec[];
}

/** How one field of a layer is written; the runner's JSON Schema is generated from this table. */
export interface LayerField {
  kind: 'positiveInt' | 'size2' | 'enum';
  values?: readonly string[];
  required?: boolean;
  description: string;
  /** What an omitted field means, when it is one fixed value (tfjs' own default for the layer). */
  default?: string | number;
}

/** Every layer type and its fields: the single source for validation, the schema and the docs. */
export const LAYER_FIELDS: Record<LayerType, Record<string, LayerField>> = {
  flatten: {},
  dense: {
    units: { kind: 'positiveInt', required: true, description: 'output units' },
    activation: { kind: 'enum', values: ACTIVATIONS, default: 'linear', description: 'default linear' },
  },
  conv2d: {
    filters: { kind: 'positiveInt', required: true, description: 'output channels' },
    kernelSize: { kind: 'size2', required: true, description: 'n or [height, width]' },
    strides: { kind: 'size2', default: 1, description: 'n or [height, width] (default 1)' },
    padding: {
      kind: 'enum',
      values: PADDINGS,
      default: 'valid',
      description: "'valid' (no padding, default) or 'same'",
    },
    activation: { kind: 'enum', values: ACTIVATIONS, default: 'linear', description: 'default linear' },
  },
  maxPool2d: {
    poolSize: { kind: 'size2', required: true, description: 'n or [height, width]' },
    strides: { kind: 'size2', description: 'n or [height, width] (default poolSize)' },
  },
};

export const LAYER_TYPES = Object.keys(LAYER_FIELDS) as LayerType[];

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
const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v)));

function fieldProblem(type: string, name: string, f: LayerField, v: unknown): string | undefined {
  switch (f.kind) {
    case 'positiveInt':
      return isPositiveInt(v) ? undefined : `${type} ${name} must be a positive integer, got ${show(v)}`;
    case 'size2':
      return isPositiveInt(v) || (Array.isArray(v) && v.length === 2 && v.every(isPositiveInt))
        ? undefined
        : `${type} ${name} must be a positive integer or [height, width] of positive integers, got ${show(v)}`;
    case 'enum':
      return f.values!.includes(v as string)
        ? undefined
        : `unknown ${name} ${show(v)}; expected one of ${f.values!.join(', ')}`;
  }
}

const SPATIAL = new Set(['conv2d', 'maxPool2d']);

/**
 * Every problem with a model spec, without knowing the input shape: layer types, fields (unknown,
 * missing, wrong value) and order (convolutions and pools come before flatten/dense; a dense
 * layer after them needs a flatten first).
 */
export function modelSpecProblems(spec: ModelSpec): ModelProblem[] {
  const problems: ModelProblem[] = [];
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) {
    return [{ path: ['layers'], message: 'a model needs a non-empty list of layers' }];
  }
  let flatSeen: string | undefined; // a flatten or dense layer: spatial layers may no longer follow
  let spatialOpen: string | undefined; // a conv/pool output not yet flattened
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
      if (name === 'type') continue;
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
      if (f.required && (l as Record<string, unknown>)[name] === undefined) {
        problems.push({ path: at(), message: `${type} needs '${name}' (${f.description})` });
      }
    }
    if (SPATIAL.has(type)) {
      if (flatSeen)
        problems.push({
          path: at(),
          message: `${type} cannot follow a ${flatSeen} layer: convolutions and pools come first`,
        });
      spatialOpen = type;
    } else {
      if (type === 'dense' && spatialOpen) {
        problems.push({ path: at(), message: `dense after ${spatialOpen} needs a { type: flatten } layer first` });
      }
      spatialOpen = undefined;
      flatSeen ??= type;
    }
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

function formatPath(path: Array<string | number>): string {
  return path.reduce<string>((s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s ? `${s}.${seg}` : seg), '');
}

/** Throws the spec's problems: one ConfigError, or a SpecError listing several. */
export function assertModelSpec(spec: ModelSpec, prefix = 'model'): void {
  const errors = modelSpecErrors(spec, prefix);
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new SpecError(errors);
}

const pair = (s: Size2): [number, number] => (typeof s === 'number' ? [s, s] : [s[0], s[1]]);

/** One layer of the built model, in order; `specIndex` is −1 for the inserted input reshape. */
export interface PlannedLayer {
  name: string;
  type: LayerType | 'reshape';
  specIndex: number;
  inShape: number[];
  outShape: number[];
  /** Weighted layers: the kernel's shape ([in, units] or [kh, kw, in, filters]). */
  kernelShape?: number[];
  spec?: LayerSpec;
}

/**
 * The layers `buildModel` creates, with names and per-sample shapes. Names are fixed so weight
 * names match across processes: `conv_1…`, `dense_1…` (a dense layer keeps its number whether or
 * not convolutions come first), `maxpool_1…`, `flatten_1…`. A [height, width] input gets a
 * `reshape_1` to [height, width, 1] before the first convolution or pool, so datasets stay flat
 * images. Sizes that do not fit the input are ConfigErrors located at the layer.
 */
export function planLayers(spec: ModelSpec, inputShape: number[]): PlannedLayer[] {
  const counts: Record<string, number> = {};
  const next = (prefix: string) => `${prefix}_${(counts[prefix] = (counts[prefix] ?? 0) + 1)}`;
  const out: PlannedLayer[] = [];
  let shape = [...inputShape];
  spec.layers.forEach((l, i) => {
    const where = { location: { path: `model.layers[${i}]` } };
    if (l.type === 'conv2d' || l.type === 'maxPool2d') {
      if (shape.length === 2) {
        out.push({ name: next('reshape'), type: 'reshape', specIndex: -1, inShape: shape, outShape: [...shape, 1] });
        shape = [...shape, 1];
      }
      if (shape.length !== 3) {
        throw new ConfigError(
          `${l.type} needs image input [height, width] or [height, width, channels], got [${shape.join(', ')}]`,
          where,
        );
      }
      const [h, w, c] = shape as [number, number, number];
      const [kh, kw] = pair(l.type === 'conv2d' ? l.kernelSize : l.poolSize);
      const [sh, sw] = pair(l.strides ?? (l.type === 'conv2d' ? 1 : l.poolSize));
      const same = l.type === 'conv2d' && l.padding === 'same';
      if (!same && (kh > h || kw > w)) {
        throw new ConfigError(`${l.type} window ${kh}×${kw} is larger than its input ${h}×${w}`, {
          ...where,
          hint: "use a smaller size or padding: 'same'",
        });
      }
      const oh = same ? Math.ceil(h / sh) : Math.floor((h - kh) / sh) + 1;
      const ow = same ? Math.ceil(w / sw) : Math.floor((w - kw) / sw) + 1;
      if (l.type === 'conv2d') {
        out.push({
          name: next('conv'),
          type: 'conv2d',
          specIndex: i,
          inShape: shape,
          outShape: [oh, ow, l.filters],
          kernelShape: [kh, kw, c, l.filters],
          spec: l,
        });
      } else {
        out.push({
          name: next('maxpool'),
          type: 'maxPool2d',
          specIndex: i,
          inShape: shape,
          outShape: [oh, ow, c],
          spec: l,
        });
      }
    } else if (l.type === 'flatten') {
      out.push({
        name: next('flatten'),
        type: 'flatten',
        specIndex: i,
        inShape: shape,
        outShape: [shape.reduce((a, b) => a * b, 1)],
        spec: l,
      });
    } else {
      const inUnits = shape[shape.length - 1]!;
      out.push({
        name: next('dense'),
        type: 'dense',
        specIndex: i,
        inShape: shape,
        outShape: [...shape.slice(0, -1), l.units],
        kernelShape: [inUnits, l.units],
        spec: l,
      });
    }
    shape = out[out.length - 1]!.outShape;
  });
  return out;
}

/** The weight layers' names in order (`conv_1`, `conv_2`, `dense_1`, …) — what stages match on. */
export function weightLayerNames(spec: ModelSpec): string[] {
  let conv = 0;
  let dense = 0;
  return spec.layers.flatMap((l) =>
    l.type === 'conv2d' ? [`conv_${++conv}`] : l.type === 'dense' ? [`dense_${++dense}`] : [],
  );
}

/** Parameters and multiply-accumulates per sample of one weight layer. */
export interface LayerCost {
  name: string;
  /** Kernel + bias parameters. */
  params: number;
  /** Kernel elements. */
  kernel: number;
  /** Positions the kernel is applied at per sample: outH·outW for a convolution, 1 for a dense layer on a vector. */
  positions: number;
  /** kernel · positions: a conv's outH·outW·kh·kw·in·out, a dense layer's in·out. */
  macs: number;
}

/** Per weight layer: parameters and MACs per sample (a pruned kernel's MACs: its nonzeros · positions). */
export function layerCosts(spec: ModelSpec, inputShape: number[]): LayerCost[] {
  return planLayers(spec, inputShape)
    .filter((p) => p.kernelShape)
    .map((p) => {
      const kernel = p.kernelShape!.reduce((a, b) => a * b, 1);
      const units = p.kernelShape![p.kernelShape!.length - 1]!;
      const positions = p.outShape.slice(0, -1).reduce((a, b) => a * b, 1);
      return { name: p.name, params: kernel + units, kernel, positions, macs: kernel * positions };
    });
}
