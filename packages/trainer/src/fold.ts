import type { WeightTensor } from '@squash/core';
import { INPUT, type LayerSpec, type ModelSpec } from './layer_spec.js';
import { planLayers, WEIGHT_LAYERS, type PlannedLayer } from './layer_graph.js';

export interface FoldResult {
  spec: ModelSpec;
  weights: WeightTensor[];
  /** The batch norms folded away, in order. */
  folded: string[];
}

/** A batch norm that can be folded into the layer before it, and that layer. */
interface Fold {
  bn: PlannedLayer;
  into: PlannedLayer;
}

/**
 * Which batch norms fold: those whose input is a dense or convolution layer with a linear
 * activation whose output nothing else reads. After an add, a concatenate or a pooling layer, or
 * behind an activation, a batch norm is no affine map of one layer's weights and stays.
 */
function foldable(plan: PlannedLayer[]): Fold[] {
  const byName = new Map(plan.map((p) => [p.name, p]));
  const readers = new Map<string, number>();
  for (const p of plan) for (const n of p.inputs) readers.set(n, (readers.get(n) ?? 0) + 1);
  return plan.flatMap((bn) => {
    const into = bn.type === 'batchNorm' ? byName.get(bn.inputs[0]!) : undefined;
    if (!into || !WEIGHT_LAYERS.includes(into.type) || readers.get(into.name) !== 1) return [];
    const activation = (into.spec as { activation?: string }).activation ?? 'linear';
    return activation === 'linear' ? [{ bn, into }] : [];
  });
}

/**
 * The folded layer's new output kernel and bias: with s = γ/√(σ² + ε) per output channel,
 * w' = w·s and b' = β + (b − μ)·s, computed in float64 and rounded once. The output channels are
 * the flattened trailing axes of the layer's last kernel (dense [in, n], conv [kh, kw, in, n],
 * depthwise [kh, kw, C, M] with n = C·M, separable's pointwise [1, 1, C·M, n]), so element i
 * belongs to channel i mod n.
 */
function foldWeights(f: Fold, get: (name: string) => WeightTensor | undefined): WeightTensor[] {
  const bnSpec = f.bn.spec as Extract<LayerSpec, { type: 'batchNorm' }>;
  const param = (role: string) => get(`${f.bn.name}/${role}`)?.values;
  const mean = param('moving_mean')!;
  const variance = param('moving_variance')!;
  const n = mean.length;
  const gamma = param('gamma');
  const beta = param('beta');
  const epsilon = bnSpec.epsilon ?? 0.001;
  const scale = Float64Array.from(mean, (_, j) => (gamma ? gamma[j]! : 1) / Math.sqrt(variance[j]! + epsilon));
  const kernelRole = f.into.weights.filter((w) => w.kernel).pop()!.role;
  const kernel = get(`${f.into.name}/${kernelRole}`)!;
  if (kernel.values.length % n !== 0)
    throw new Error(
      `foldBatchNorm: ${kernel.name} has ${kernel.values.length} weights, not a multiple of ${n} channels`,
    );
  const bias = get(`${f.into.name}/bias`)?.values;
  return [
    { ...kernel, shape: [...kernel.shape], values: kernel.values.map((w, i) => w * scale[i % n]!) },
    {
      name: `${f.into.name}/bias`,
      shape: [n],
      values: Float32Array.from(scale, (s, j) => (beta ? beta[j]! : 0) + ((bias ? bias[j]! : 0) - mean[j]!) * s),
    },
  ];
}

/**
 * Folds batch norms into the layer before them, as TF-Lite's converter and NNCF do for inference:
 * a batch norm whose only input is a dense, conv2d, depthwiseConv2d or separableConv2d layer with
 * a linear activation, read by nothing else, becomes that layer's scaled kernel and bias (the layer
 * gains a bias if it had none) and is removed; its readers read the layer instead. Other batch
 * norms stay. The folded spec names every layer explicitly, so removing `bn_1` does not rename
 * `bn_2`; with nothing to fold, spec and weights come back unchanged.
 */
export function foldBatchNorm(spec: ModelSpec, weights: WeightTensor[], inputShape: number[]): FoldResult {
  const plan = planLayers(spec, inputShape);
  const folds = foldable(plan);
  if (!folds.length) return { spec, weights, folded: [] };

  const byName = new Map(weights.map((w) => [w.name, w]));
  const replaced = new Map<string, WeightTensor>();
  // A folded layer without a bias gets one right after its last kernel (tfjs' weight order).
  const added = new Map<string, WeightTensor>();
  for (const f of folds) {
    const [kernel, bias] = foldWeights(f, (name) => byName.get(name));
    replaced.set(kernel!.name, kernel!);
    if (byName.has(bias!.name)) replaced.set(bias!.name, bias!);
    else added.set(kernel!.name, bias!);
  }
  const gone = new Set(folds.map((f) => f.bn.name));
  const folded = weights.flatMap((w) => {
    if (gone.has(w.name.slice(0, w.name.lastIndexOf('/')))) return [];
    const own = replaced.get(w.name) ?? w;
    const bias = added.get(w.name);
    return bias ? [own, bias] : [own];
  });

  // The spec: batch norms removed, their readers rewired, every layer named.
  const nameAt = new Map(plan.flatMap((p) => (p.specIndex >= 0 ? [[p.specIndex, p.name] as const] : [])));
  const into = new Map(folds.map((f) => [f.bn.name, f.into.name]));
  const layers: LayerSpec[] = [];
  let before = INPUT; // the layer before, in the spec as written
  let previous = INPUT; // the layer before, in the folded spec
  spec.layers.forEach((l, i) => {
    const name = nameAt.get(i)!;
    const inputs = (l.inputs ?? [before]).map((n) => into.get(n) ?? n);
    before = name;
    if (into.has(name)) return;
    const out = { ...l, name } as LayerSpec & { useBias?: boolean };
    if (folds.some((f) => f.into.name === name)) delete out.useBias;
    if (l.inputs || inputs.length !== 1 || inputs[0] !== previous) out.inputs = inputs;
    layers.push(out);
    previous = name;
  });
  return { spec: { ...spec, layers }, weights: folded, folded: folds.map((f) => f.bn.name) };
}
