import { ConfigError, type WeightTensor } from '@squash/core';
import type { LayerSpec, LayerType, ModelSpec } from './layer_spec.js';
import { planLayers, weightLayerNames } from './layer_graph.js';

/**
 * Entries `keep` along the middle axis of a row-major tensor seen as [outer, units, inner]:
 * a kernel's own units are its last axis (inner = 1); the next kernel's inputs are
 * [1, units, out] for a dense kernel after a dense layer, [kh·kw, units, out] for a convolution,
 * and [h·w, units, out] for a dense kernel after flattening a [h, w, units] feature map.
 */
function takeAlong(values: Float32Array, outer: number, units: number, inner: number, keep: Int32Array): Float32Array {
  const out = new Float32Array(outer * keep.length * inner);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (const k of keep) {
      const from = (o * units + k) * inner;
      out.set(values.subarray(from, from + inner), i);
      i += inner;
    }
  }
  return out;
}

/** What unit pruning reads of a layer. */
interface Node {
  name: string;
  type: LayerType;
  inputs: string[];
  specIndex: number;
  spec?: LayerSpec;
}

/** Layers whose units can be removed: their kernel's last axis is the layer's output channels. */
const UNIT_LAYERS: readonly LayerType[] = ['dense', 'conv2d', 'separableConv2d'];
/** Layers that mix channels: removed channels become removed input rows of their kernels. */
const MIXING: readonly LayerType[] = UNIT_LAYERS;
/** Layers that keep channel c at channel c (per channel, per position, or by position). */
const CHANNEL_PRESERVING: readonly LayerType[] = [
  'batchNorm',
  'activation',
  'dropout',
  'maxPool2d',
  'avgPool2d',
  'zeroPadding2d',
  'globalAvgPool2d',
  'globalMaxPool2d',
  // Channel fastest (NHWC): a channel's copies at every position, which the next dense layer's rows hold.
  'flatten',
];

/** The weight whose last axis holds a unit layer's units. */
const unitKernel = (n: Pick<Node, 'name' | 'type'>) =>
  `${n.name}/${n.type === 'separableConv2d' ? 'pointwise_kernel' : 'kernel'}`;

/**
 * The layers in order with what each reads. With an input shape, as `planLayers` builds them
 * (reshapes it inserts included); without one a chain only, every layer reading the one before,
 * named from the weights (in layer order) where it has any.
 */
function graphOf(spec: ModelSpec, weights: WeightTensor[], inputShape?: number[]): Node[] {
  const shape = inputShape ?? spec.inputShape;
  if (shape) return planLayers(spec, shape);
  if (spec.layers.some((l) => l.inputs))
    throw new Error(`removeUnits: ${spec.name} is a graph (layers with inputs); give the input shape`);
  const owners = [...new Set(weights.map((w) => w.name.slice(0, w.name.lastIndexOf('/'))))];
  let o = 0;
  let previous = 'input';
  return spec.layers.map((l, i) => {
    const hasWeights = UNIT_LAYERS.includes(l.type) || l.type === 'depthwiseConv2d' || l.type === 'batchNorm';
    const name = l.name ?? (hasWeights ? owners[o] : undefined) ?? `#${i}`;
    if (hasWeights) o++;
    const node = { name, type: l.type, inputs: [previous], specIndex: i, spec: l };
    previous = name;
    return node;
  });
}

/** Why a layer's units cannot be removed on their own: the layer that ties them, or the model output. */
export interface UnitTie {
  layer: string;
  /** The tying layer's type (`add`, `concatenate`, `reshape`), or `output` when the units are the model's outputs. */
  type: LayerType | 'output';
}

/** A layer that reads removed channels, the channels it keeps of its input, and how many there were. */
interface Edit {
  node: Node;
  keep: Int32Array;
  units: number;
}

/**
 * Follows a layer's output channels through the layers that keep them channels (batch norm,
 * activations, pooling, padding, flatten, depthwise convolutions — whose channel c becomes c·M … c·M + M − 1)
 * to the layers that mix them, collecting every layer whose weights lose entries. Stops at the
 * first merge, reshape or model output: there the channels are tied to something else.
 */
function follow(graph: Node[], from: Node, keep: Int32Array, units: number): { edits: Edit[]; tie?: UnitTie } {
  const readers = new Map<string, Node[]>();
  for (const n of graph) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const output = graph[graph.length - 1]!.name;
  const edits: Edit[] = [];
  const walk = (at: Node, keep: Int32Array, units: number): UnitTie | undefined => {
    if (at.name === output) return { layer: at.name, type: 'output' };
    for (const r of readers.get(at.name) ?? []) {
      if (MIXING.includes(r.type)) {
        edits.push({ node: r, keep, units });
        continue;
      }
      if (r.type === 'depthwiseConv2d') {
        edits.push({ node: r, keep, units });
        const m = (r.spec as { depthMultiplier?: number }).depthMultiplier ?? 1;
        const expanded = Int32Array.from({ length: keep.length * m }, (_, i) => keep[Math.floor(i / m)]! * m + (i % m));
        const tie = walk(r, expanded, units * m);
        if (tie) return tie;
        continue;
      }
      if (!CHANNEL_PRESERVING.includes(r.type)) return { layer: r.name, type: r.type };
      if (r.type === 'batchNorm') edits.push({ node: r, keep, units });
      const tie = walk(r, keep, units);
      if (tie) return tie;
    }
    return undefined;
  };
  const tie = walk(from, keep, units);
  return tie ? { edits, tie } : { edits };
}

/**
 * Every layer whose units structured pruning could remove (dense, conv2d, separableConv2d), with
 * the weight ranking them (`conv_1/kernel`, `sep_1/pointwise_kernel`) and, when its units cannot
 * be removed alone, what ties them: an add or concatenate (the other input must lose the same
 * channels), a reshape (channels stop being an axis), or the model output (they are the classes).
 */
export function unitLayers(
  spec: ModelSpec,
  inputShape: number[],
): Array<{ name: string; type: LayerType; kernel: string; tie?: UnitTie }> {
  const graph = graphOf(spec, [], inputShape);
  return graph
    .filter((n) => UNIT_LAYERS.includes(n.type))
    .map((n) => {
      const { tie } = follow(graph, n, new Int32Array(0), 0);
      return { name: n.name, type: n.type, kernel: unitKernel(n), ...(tie ? { tie } : {}) };
    });
}

/** "conv_2's filters feed the add block_1", for errors. */
export function describeTie(layer: { name: string; type: LayerType }, tie: UnitTie): string {
  const what = layer.type === 'dense' ? 'units' : 'filters';
  if (tie.type === 'output')
    return tie.layer === layer.name
      ? `${layer.name} is the output layer; its ${what} are the classes`
      : `${layer.name}'s ${what} reach the model output through ${tie.layer}; they are the classes`;
  return `${layer.name}'s ${what} feed the ${tie.type} ${tie.layer}`;
}

/** The weights of a layer reading removed channels, with those channels' entries taken out. */
function removeInputs(e: Edit, get: (name: string) => WeightTensor | undefined, from: string): void {
  const { node, keep, units } = e;
  const param = (role: string) => get(`${node.name}/${role}`);
  if (node.type === 'batchNorm') {
    for (const role of ['gamma', 'beta', 'moving_mean', 'moving_variance']) {
      const p = param(role);
      if (!p) continue;
      p.values = takeAlong(p.values, p.values.length / units, units, 1, keep);
      p.shape = [p.values.length];
    }
    return;
  }
  if (node.type === 'depthwiseConv2d' || node.type === 'separableConv2d') {
    // [kh, kw, C, M]: channel c's M filters; a depthwise layer's bias [C·M] goes with them.
    const dw = param('depthwise_kernel')!;
    const [kh, kw, , m] = dw.shape as [number, number, number, number];
    dw.values = takeAlong(dw.values, kh * kw, units, m, keep);
    dw.shape[2] = keep.length;
    if (node.type === 'depthwiseConv2d') {
      const bias = param('bias');
      if (bias) {
        bias.values = takeAlong(bias.values, 1, units, m, keep);
        bias.shape = [bias.values.length];
      }
      return;
    }
    // The pointwise kernel reads the depthwise outputs: channel c's are rows c·M … c·M + M − 1.
    const rows = Int32Array.from({ length: keep.length * m }, (_, i) => keep[Math.floor(i / m)]! * m + (i % m));
    removeRows(param('pointwise_kernel')!, rows, units * m, from, node.name);
    return;
  }
  removeRows(param('kernel')!, keep, units, from, node.name);
}

/**
 * A mixing kernel's input axis (second to last: [in, out] or [kh, kw, in, out]) loses the removed
 * channels; after a flatten it holds positions × units rows, channel fastest (NHWC).
 */
function removeRows(kernel: WeightTensor, keep: Int32Array, units: number, from: string, layer: string): void {
  const s = kernel.shape;
  const out = s[s.length - 1]!;
  const inputs = s[s.length - 2]!;
  if (inputs % units !== 0)
    throw new Error(`removeUnits: ${layer} has ${inputs} inputs, not a multiple of ${from}'s ${units} units`);
  const before = s.slice(0, -2).reduce((a, b) => a * b, 1);
  kernel.values = takeAlong(kernel.values, before * (inputs / units), units, out, keep);
  s[s.length - 2] = (inputs / units) * keep.length;
}

/**
 * Structured pruning made physical: removes dense units or conv filters (the last axis of a
 * layer's kernel — a separable layer's pointwise kernel — and its bias entries) and every entry
 * of a later layer that belonged to them: batch-norm parameters, depthwise filters and biases on
 * the way, and the matching input rows of the kernels that mix them (through a flatten, every
 * position's copy of the channel), so the rebuilt tfjs model really has fewer parameters and MACs
 * (Li et al. 2017 for filters). `keep` maps a layer name (`dense_1`, `conv_2`) to the sorted
 * indices it keeps. Channels that reach an add, a concatenate, a reshape or the model output
 * cannot be removed alone: a ConfigError names the layer that ties them. `inputShape` (default the
 * spec's) is needed for graph models; a chain of layers is followed without it.
 */
export function removeUnits(
  spec: ModelSpec,
  weights: WeightTensor[],
  keep: Map<string, Int32Array>,
  inputShape?: number[],
): { spec: ModelSpec; weights: WeightTensor[] } {
  const byName = new Map(weights.map((w) => [w.name, { ...w, shape: [...w.shape] }]));
  const get = (name: string) => byName.get(name);
  const graph = graphOf(spec, weights, inputShape);
  const names = weightLayerNames(spec);
  const layers = spec.layers.map((l) => ({ ...l })) as LayerSpec[];
  for (const name of keep.keys()) {
    const node = graph.find((n) => n.name === name);
    if (!node || !names.includes(name))
      throw new Error(`removeUnits: no weight layer ${name}; layers: ${names.join(', ')}`);
    if (!UNIT_LAYERS.includes(node.type))
      throw new Error(`removeUnits: ${name} is a ${node.type}; its channels follow its input`);
  }
  for (const node of graph) {
    const kept = keep.get(node.name);
    if (!kept) continue;
    const kernel = get(unitKernel(node))!;
    const units = kernel.shape[kernel.shape.length - 1]!;
    const { edits, tie } = follow(graph, node, kept, units);
    if (tie)
      throw new ConfigError(
        `removeUnits: ${describeTie(node, tie)}${tie.type === 'output' ? '' : '; they cannot be removed alone'}`,
      );
    for (const k of kept)
      if (k < 0 || k >= units) throw new Error(`removeUnits: ${node.name} has ${units} units, cannot keep unit ${k}`);
    kernel.values = takeAlong(kernel.values, kernel.values.length / units, units, 1, kept);
    kernel.shape[kernel.shape.length - 1] = kept.length;
    const bias = get(`${node.name}/bias`);
    if (bias) {
      bias.values = Float32Array.from(kept, (k) => bias.values[k]!);
      bias.shape = [kept.length];
    }
    for (const e of edits) removeInputs(e, get, node.name);
    const layer = layers[node.specIndex]!;
    if (layer.type === 'dense') layer.units = kept.length;
    else if (layer.type === 'conv2d' || layer.type === 'separableConv2d') layer.filters = kept.length;
  }
  return { spec: { ...spec, layers }, weights: weights.map((w) => byName.get(w.name)!) };
}
