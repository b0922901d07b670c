/**
 * The declarative model a `.sqz` header carries, and the rules every builder of it shares: layer
 * names, where reshapes are inserted, where hidden activations are quantized. Pure (no
 * TensorFlow.js), so the trainer's experiment-file checks use it without loading tfjs.
 */

/** Activation functions a layer may apply (tfjs-layers' names). */
export type Activation =
  | 'relu'
  | 'relu6'
  | 'elu'
  | 'selu'
  | 'softmax'
  | 'linear'
  | 'tanh'
  | 'sigmoid'
  | 'hardSigmoid'
  | 'softplus'
  | 'softsign'
  | 'swish';
export type Padding = 'valid' | 'same';
/** A square size (5) or [height, width] ([5, 3]). */
export type Size2 = number | [number, number];
/** Zero padding: n on every side, [height, width] (symmetric), or [[top, bottom], [left, right]]. */
export type Pad2 = number | [number, number] | [[number, number], [number, number]];

/** What every layer may carry: a name (graph form and stage matching) and the layers it reads. */
export interface LayerCommon {
  /** Default: `<kind>_<n>` (`conv_1`, `dense_2`, …). `input` names the model's input. */
  name?: string;
  /** Graph form: the layers (or `input`) whose outputs this layer reads; default the previous layer. */
  inputs?: string[];
}

interface ConvFields {
  kernelSize: Size2;
  strides?: Size2;
  padding?: Padding;
  activation?: Activation;
  useBias?: boolean;
}

/** One layer of a declarative model. */
export type LayerSpec = LayerCommon &
  (
    | { type: 'flatten' }
    | { type: 'dense'; units: number; activation?: Activation; useBias?: boolean }
    | ({ type: 'conv2d'; filters: number } & ConvFields)
    | ({ type: 'depthwiseConv2d'; depthMultiplier?: number } & ConvFields)
    | ({ type: 'separableConv2d'; filters: number; depthMultiplier?: number } & ConvFields)
    | { type: 'maxPool2d'; poolSize: Size2; strides?: Size2; padding?: Padding }
    | { type: 'avgPool2d'; poolSize: Size2; strides?: Size2; padding?: Padding }
    | { type: 'globalAvgPool2d' }
    | { type: 'globalMaxPool2d' }
    | { type: 'batchNorm'; epsilon?: number; momentum?: number; center?: boolean; scale?: boolean }
    | { type: 'dropout'; rate: number }
    | { type: 'activation'; activation: Activation }
    | { type: 'add' }
    | { type: 'concatenate' }
    | { type: 'zeroPadding2d'; pad: Pad2 }
    | { type: 'reshape'; targetShape: number[] }
  );

export type LayerType = LayerSpec['type'];

export interface ModelSpec {
  name: string;
  layers: LayerSpec[];
  /**
   * The per-sample shape the model's first layer expects ([28, 28, 1]); models read from files
   * declare it. Data of another shape with as many values is reshaped to it.
   */
  inputShape?: number[];
}

/** The name the graph gives the model's input. */
export const INPUT = 'input';

/** Layers that combine several inputs; every other layer reads exactly one. */
export const MERGE_LAYERS: readonly LayerType[] = ['add', 'concatenate'];

/** Layer types that carry kernels (what stages compress). */
export const WEIGHT_LAYERS: readonly LayerType[] = ['dense', 'conv2d', 'depthwiseConv2d', 'separableConv2d'];

/** Layers that need an image ([height, width, channels]) input. */
export const SPATIAL: readonly LayerType[] = [
  'conv2d',
  'depthwiseConv2d',
  'separableConv2d',
  'maxPool2d',
  'avgPool2d',
  'globalAvgPool2d',
  'globalMaxPool2d',
  'zeroPadding2d',
];

/** Layers that change values one by one (or per channel) and so extend the layer before them. */
const ELEMENTWISE: readonly LayerType[] = ['batchNorm', 'activation', 'dropout'];

/** Prefix of a layer type's default names: `conv_1`, `dense_2`, … */
export const PREFIX: Record<LayerType, string> = {
  flatten: 'flatten',
  dense: 'dense',
  conv2d: 'conv',
  depthwiseConv2d: 'dwconv',
  separableConv2d: 'sepconv',
  maxPool2d: 'maxpool',
  avgPool2d: 'avgpool',
  globalAvgPool2d: 'gap',
  globalMaxPool2d: 'gmp',
  batchNorm: 'bn',
  dropout: 'dropout',
  activation: 'act',
  add: 'add',
  concatenate: 'concat',
  zeroPadding2d: 'pad',
  reshape: 'reshape',
};

/** The names each spec layer gets: its own, or `<prefix>_<n>` skipping names already taken. */
export function layerNames(spec: ModelSpec): string[] {
  const taken = new Set(spec.layers.flatMap((l) => (l.name ? [l.name] : [])));
  const counts: Record<string, number> = {};
  return spec.layers.map((l) => {
    if (l.name) return l.name;
    const prefix = PREFIX[l.type];
    let name: string;
    do name = `${prefix}_${(counts[prefix] = (counts[prefix] ?? 0) + 1)}`;
    while (taken.has(name));
    taken.add(name);
    return name;
  });
}

/** One layer as a model gets it: a spec layer, or a reshape inserted before one (`specIndex` −1). */
export interface LayerStep {
  name: string;
  spec: LayerSpec;
  specIndex: number;
  /** The steps (or `input`) it reads. */
  inputs: string[];
}

const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Walks a spec in the order its model is built, naming layers (`layerNames`) and resolving what
 * each reads; `add` makes one step and returns its per-sample output shape. Reshapes are
 * inserted: a model declaring an `inputShape` other than the data's gets its input reshaped to
 * it, and a layer needing an image that reads a [height, width] tensor gets a `reshape_<n>` to
 * [height, width, 1] before it, so datasets stay flat images. An input no earlier step made has
 * no shape (undefined in `inShapes`): `add` says what is wrong.
 */
export function walkLayers(
  spec: ModelSpec,
  inputShape: number[],
  add: (step: LayerStep, inShapes: Array<number[] | undefined>) => number[],
): void {
  const names = layerNames(spec);
  const shapes = new Map([[INPUT, inputShape]]);
  let reshapes = spec.layers.filter((l) => l.type === 'reshape' && !l.name).length;
  const step = (name: string, l: LayerSpec, specIndex: number, inputs: string[]) => {
    shapes.set(
      name,
      add(
        { name, spec: l, specIndex, inputs },
        inputs.map((n) => shapes.get(n)),
      ),
    );
    return name;
  };
  const reshape = (from: string, targetShape: number[]) => {
    let name: string;
    do name = `reshape_${++reshapes}`;
    while (names.includes(name));
    return step(name, { type: 'reshape', targetShape }, -1, [from]);
  };
  const entry = spec.inputShape && !same(spec.inputShape, inputShape) ? reshape(INPUT, [...spec.inputShape]) : INPUT;
  let previous = entry;
  spec.layers.forEach((l, i) => {
    let inputs = (l.inputs ?? [previous]).map((n) => (n === INPUT ? entry : n));
    if (SPATIAL.includes(l.type))
      inputs = inputs.map((n) => {
        const s = shapes.get(n);
        return s?.length === 2 ? reshape(n, [...s, 1]) : n;
      });
    previous = step(names[i]!, l, i, inputs);
  });
}

/** What the graph rules read of a layer. */
export interface GraphNode {
  name: string;
  type: LayerType;
  inputs: string[];
}

/**
 * The spec's layers as graph nodes (names, what each reads), without the reshapes `walkLayers`
 * inserts: those only ever stand before a convolution or pool, so `activationPoints` finds the
 * same points with or without them.
 */
export function specGraph(spec: ModelSpec): GraphNode[] {
  const names = layerNames(spec);
  return spec.layers.map((l, i) => ({
    name: names[i]!,
    type: l.type,
    inputs: l.inputs ?? [i ? names[i - 1]! : INPUT],
  }));
}

/**
 * The hidden activations activation quantization applies to: each weight layer's output and each
 * add/concatenate's, taken after the batch norm, activation and dropout layers that follow it
 * alone (`at`), and named by the layer that computed it (`name`). An output that only feeds an
 * add or concatenate is left to that layer's; the model's output is not a hidden activation.
 */
export function activationPoints(plan: GraphNode[]): Array<{ name: string; at: string }> {
  const readers = new Map<string, GraphNode[]>();
  for (const p of plan) for (const n of p.inputs) readers.set(n, [...(readers.get(n) ?? []), p]);
  const output = plan[plan.length - 1]!.name;
  const points: Array<{ name: string; at: string }> = [];
  for (const p of plan) {
    if (!WEIGHT_LAYERS.includes(p.type) && !MERGE_LAYERS.includes(p.type)) continue;
    let at = p.name;
    for (;;) {
      const next = readers.get(at) ?? [];
      if (next.length !== 1 || !ELEMENTWISE.includes(next[0]!.type)) break;
      at = next[0]!.name;
    }
    const next = readers.get(at) ?? [];
    if (at === output || (next.length > 0 && next.every((r) => MERGE_LAYERS.includes(r.type)))) continue;
    points.push({ name: p.name, at });
  }
  return points;
}
