import { type Activation, LAYER_CLASSES, type LayerSpec, type Pad2, type Padding, type Size2 } from '../layer_spec.js';
import type { FileLayer } from './keras_graph.js';
import { at, fileConfigError, isObject, quote, type Where } from './where.js';

/** A layer spec without name and inputs (the graph adds those). */
type Body = LayerSpec extends infer L ? (L extends LayerSpec ? Omit<L, 'name' | 'inputs'> : never) : never;

/** A layer read from the file: its spec, and the axis it works on when only its input shape can tell if that is the last. */
export interface ConvertedLayer {
  body: Body;
  /** An axis written as a positive index (`axis: 3`): it must be the input's last axis, checked once shapes are known. */
  axis?: { value: number; field: string };
}

/** Keras activation names (snake_case, as Keras and tfjs write them) → ours. */
const ACTIVATION_NAMES: Record<string, Activation> = {
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  selu: 'selu',
  softmax: 'softmax',
  linear: 'linear',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  hard_sigmoid: 'hardSigmoid',
  softplus: 'softplus',
  softsign: 'softsign',
  swish: 'swish',
  silu: 'swish',
};

interface Ctx {
  layer: FileLayer;
  where: Where;
  keras3: boolean;
}

const who = (c: Ctx) => `layer '${c.layer.name}' (${c.layer.className})`;
const fieldAt = (c: Ctx, field: string) => at(c.where, `${c.layer.path}.config.${field}`);

function unsupported(c: Ctx, field: string, expected: string): never {
  throw fileConfigError(
    fieldAt(c, field),
    `${who(c)}: ${field} ${quote(c.layer.config[field])} is not supported; expected ${expected}`,
  );
}

function positiveInt(c: Ctx, field: string): number {
  const v = c.layer.config[field];
  if (!Number.isInteger(v) || (v as number) < 1) unsupported(c, field, 'a positive integer');
  return v as number;
}

/** `3` or `[3, 3]` → 3; `[3, 5]` stays a pair. */
function size2(c: Ctx, field: string, fallback?: Size2): Size2 {
  const v = c.layer.config[field];
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  if (Number.isInteger(v) && (v as number) >= 1) return v as number;
  if (Array.isArray(v) && v.length === 2 && v.every((d) => Number.isInteger(d) && d >= 1))
    return v[0] === v[1] ? (v[0] as number) : [v[0], v[1]];
  return unsupported(c, field, 'a positive integer or [height, width]');
}

function padding(c: Ctx): Padding {
  const v = c.layer.config.padding ?? 'valid';
  if (v === 'valid' || v === 'same') return v;
  return unsupported(c, 'padding', "'valid' or 'same'");
}

function bool(c: Ctx, field: string, fallback: boolean): boolean {
  const v = c.layer.config[field] ?? fallback;
  if (typeof v !== 'boolean') unsupported(c, field, 'true or false');
  return v as boolean;
}

/** Refuses what the IR cannot compute: channels-first data, dilation, grouped convolution. */
function checkLayout(c: Ctx, fields: Array<'data_format' | 'dilation_rate' | 'groups'>): void {
  const cfg = c.layer.config;
  for (const f of fields) {
    const v = cfg[f];
    if (v === undefined || v === null) continue;
    if (f === 'data_format' && v !== 'channels_last') unsupported(c, f, "'channels_last'");
    if (f === 'dilation_rate' && !(v === 1 || (Array.isArray(v) && v.every((d) => d === 1)))) unsupported(c, f, '1');
    if (f === 'groups' && v !== 1) unsupported(c, f, '1');
  }
}

/** Keras 3 writes unknown activations as `{class_name, config}`; built-ins are plain names. */
function activation(c: Ctx, field = 'activation'): Activation {
  const raw = c.layer.config[field];
  const name = isObject(raw) && typeof raw.config === 'string' ? raw.config : (raw ?? 'linear');
  // tfjs spells some camelCase in memory; files carry snake_case, but accept either.
  const snake = typeof name === 'string' ? name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase() : undefined;
  if (snake === 'hard_sigmoid' && c.keras3)
    throw fileConfigError(
      fieldAt(c, field),
      `${who(c)}: activation 'hard_sigmoid' is not supported in a Keras 3 model: Keras 3 computes relu6(x + 3) / 6, TensorFlow.js clip(0.2·x + 0.5, 0, 1)`,
    );
  const ours = snake === undefined ? undefined : ACTIVATION_NAMES[snake];
  if (!ours)
    throw fileConfigError(
      fieldAt(c, field),
      `${who(c)}: activation ${quote(raw)} is not supported; expected one of ${Object.keys(ACTIVATION_NAMES).join(', ')}`,
    );
  return ours;
}

const withActivation = (c: Ctx): { activation?: Activation } => {
  const a = activation(c);
  return a === 'linear' ? {} : { activation: a };
};

/** An axis that must be the last: -1, or a positive index checked against the input's rank later. */
function lastAxis(c: Ctx, field: string, fallback: number): ConvertedLayer['axis'] {
  let v = c.layer.config[field] ?? fallback;
  if (Array.isArray(v) && v.length === 1) v = v[0];
  if (v === -1) return undefined;
  if (Number.isInteger(v) && (v as number) >= 1) return { value: v as number, field };
  return unsupported(c, field, 'the last axis (-1)');
}

function convConfig(c: Ctx) {
  checkLayout(c, ['data_format', 'dilation_rate', 'groups']);
  const strides = size2(c, 'strides', 1);
  const pad = padding(c);
  return {
    kernelSize: size2(c, 'kernel_size'),
    ...(strides === 1 ? {} : { strides }),
    ...(pad === 'valid' ? {} : { padding: pad }),
    ...withActivation(c),
    ...(bool(c, 'use_bias', true) ? {} : { useBias: false }),
  };
}

function poolConfig(c: Ctx, type: 'maxPool2d' | 'avgPool2d'): Body {
  checkLayout(c, ['data_format']);
  const poolSize = size2(c, 'pool_size');
  const strides = size2(c, 'strides', poolSize);
  const pad = padding(c);
  const same = JSON.stringify(strides) === JSON.stringify(poolSize);
  return { type, poolSize, ...(same ? {} : { strides }), ...(pad === 'valid' ? {} : { padding: pad }) };
}

function globalPool(c: Ctx, type: 'globalAvgPool2d' | 'globalMaxPool2d'): Body {
  checkLayout(c, ['data_format']);
  if (c.layer.config.keepdims === true) unsupported(c, 'keepdims', 'false');
  return { type };
}

function dropout(c: Ctx): Body {
  const rate = c.layer.config.rate;
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) unsupported(c, 'rate', 'a number in [0, 1)');
  return { type: 'dropout', rate: rate as number };
}

/** ZeroPadding2D's `padding`: n, [h, w] or [[top, bottom], [left, right]]. */
function pad2(c: Ctx): Pad2 {
  const v = c.layer.config.padding;
  const n = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  if (n(v)) return v as number;
  if (Array.isArray(v) && v.length === 2) {
    if (v.every(n)) return [v[0], v[1]];
    if (v.every((p) => Array.isArray(p) && p.length === 2 && p.every(n)))
      return [
        [v[0][0], v[0][1]],
        [v[1][0], v[1][1]],
      ];
  }
  return unsupported(c, 'padding', 'n, [height, width] or [[top, bottom], [left, right]]');
}

/** ReLU with max_value 6 is relu6; a leak or threshold has no counterpart. */
function reluLayer(c: Ctx): Body {
  const cfg = c.layer.config;
  for (const f of ['negative_slope', 'threshold'])
    if (cfg[f] !== undefined && cfg[f] !== null && cfg[f] !== 0) unsupported(c, f, '0');
  const max = cfg.max_value;
  if (max === undefined || max === null) return { type: 'activation', activation: 'relu' };
  if (max === 6) return { type: 'activation', activation: 'relu6' };
  return unsupported(c, 'max_value', 'none or 6');
}

type Converter = (c: Ctx) => Body | ConvertedLayer;

/** Every layer class read, by its Keras class name: each type's own class (`LAYER_CLASSES`), aliases and layers read as another type. */
const CONVERTERS: Record<string, Converter> = {
  [LAYER_CLASSES.dense]: (c) => ({
    type: 'dense',
    units: positiveInt(c, 'units'),
    ...withActivation(c),
    ...(bool(c, 'use_bias', true) ? {} : { useBias: false }),
  }),
  [LAYER_CLASSES.conv2d]: (c) => ({ type: 'conv2d', filters: positiveInt(c, 'filters'), ...convConfig(c) }),
  [LAYER_CLASSES.depthwiseConv2d]: (c) => {
    const m = c.layer.config.depth_multiplier ?? 1;
    return {
      type: 'depthwiseConv2d',
      ...(m === 1 ? {} : { depthMultiplier: positiveInt(c, 'depth_multiplier') }),
      ...convConfig(c),
    };
  },
  [LAYER_CLASSES.separableConv2d]: (c) => {
    const m = c.layer.config.depth_multiplier ?? 1;
    return {
      type: 'separableConv2d',
      filters: positiveInt(c, 'filters'),
      ...(m === 1 ? {} : { depthMultiplier: positiveInt(c, 'depth_multiplier') }),
      ...convConfig(c),
    };
  },
  [LAYER_CLASSES.maxPool2d]: (c) => poolConfig(c, 'maxPool2d'),
  [LAYER_CLASSES.avgPool2d]: (c) => poolConfig(c, 'avgPool2d'),
  [LAYER_CLASSES.globalAvgPool2d]: (c) => globalPool(c, 'globalAvgPool2d'),
  [LAYER_CLASSES.globalMaxPool2d]: (c) => globalPool(c, 'globalMaxPool2d'),
  [LAYER_CLASSES.batchNorm]: (c) => {
    const cfg = c.layer.config;
    const axis = lastAxis(c, 'axis', -1);
    const num = (f: string, fallback: number) => {
      const v = cfg[f] ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v)) unsupported(c, f, 'a number');
      return v as number;
    };
    const epsilon = num('epsilon', 0.001);
    const momentum = num('momentum', 0.99);
    return {
      body: {
        type: 'batchNorm',
        ...(epsilon === 0.001 ? {} : { epsilon }),
        ...(momentum === 0.99 ? {} : { momentum }),
        ...(bool(c, 'center', true) ? {} : { center: false }),
        ...(bool(c, 'scale', true) ? {} : { scale: false }),
      },
      axis,
    };
  },
  [LAYER_CLASSES.dropout]: dropout,
  // Identity at inference like Dropout; training would drop single values rather than whole channels.
  SpatialDropout2D: (c) => {
    checkLayout(c, ['data_format']);
    return dropout(c);
  },
  [LAYER_CLASSES.activation]: (c) => ({ type: 'activation', activation: activation(c) }),
  ReLU: reluLayer,
  Softmax: (c) => ({ body: { type: 'activation', activation: 'softmax' }, axis: lastAxis(c, 'axis', -1) }),
  [LAYER_CLASSES.add]: () => ({ type: 'add' }),
  [LAYER_CLASSES.concatenate]: (c) => ({ body: { type: 'concatenate' }, axis: lastAxis(c, 'axis', -1) }),
  [LAYER_CLASSES.zeroPadding2d]: (c) => {
    checkLayout(c, ['data_format']);
    return { type: 'zeroPadding2d', pad: pad2(c) };
  },
  [LAYER_CLASSES.reshape]: (c) => {
    const v = c.layer.config.target_shape;
    if (!Array.isArray(v) || v.length === 0 || !v.every((d) => d === -1 || (Number.isInteger(d) && d >= 1)))
      unsupported(c, 'target_shape', 'a list of positive integers (one may be -1)');
    return { type: 'reshape', targetShape: [...(v as number[])] };
  },
  [LAYER_CLASSES.flatten]: (c) => {
    checkLayout(c, ['data_format']);
    return { type: 'flatten' };
  },
};
CONVERTERS.MaxPool2D = CONVERTERS[LAYER_CLASSES.maxPool2d]!;
CONVERTERS.AvgPool2D = CONVERTERS[LAYER_CLASSES.avgPool2d]!;
CONVERTERS.GlobalAvgPool2D = CONVERTERS[LAYER_CLASSES.globalAvgPool2d]!;
CONVERTERS.GlobalMaxPool2D = CONVERTERS[LAYER_CLASSES.globalMaxPool2d]!;

export const SUPPORTED_CLASSES = ['InputLayer', ...Object.keys(CONVERTERS)];

/** One file layer as our layer spec; an unknown class or setting is a ConfigError naming the layer. */
export function convertLayer(layer: FileLayer, where: Where, keras3: boolean): ConvertedLayer {
  const convert = Object.hasOwn(CONVERTERS, layer.className) ? CONVERTERS[layer.className] : undefined;
  if (!convert)
    throw fileConfigError(
      at(where, `${layer.path}.class_name`),
      `layer '${layer.name}' has class ${quote(layer.className)}, which is not supported; expected one of ${SUPPORTED_CLASSES.join(', ')}`,
    );
  const out = convert({ layer, where, keras3 });
  return 'body' in out ? out : { body: out };
}
