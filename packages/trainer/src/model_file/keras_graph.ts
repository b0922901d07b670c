import { at, fileConfigError, isObject, quote, type Where } from './where.js';

/** One layer of the file's model (the InputLayer excluded), with what it reads. */
export interface FileLayer {
  /** Position in the file's layer list (Keras 3 archives number same-class layers in this order). */
  index: number;
  /** JSON path of the layer inside model.json (`modelTopology.model_config.config.layers[3]`). */
  path: string;
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** The layers it reads; the model input is named by `input.name`. */
  inputs: string[];
}

/** A Keras/TensorFlow.js layers model as a single-input, single-output graph. */
export interface FileGraph {
  /** The model's own name (`sequential_1`, `functional`). */
  name: string;
  /** `2.15.0`, `3.4.1`, `tfjs-layers 4.22.0`, or '' when the file does not say. */
  kerasVersion: string;
  input: { name: string; shape: number[]; path: string };
  /** Topological order, the output layer last. */
  layers: FileLayer[];
  /** Every layer entry of the file in its order, InputLayer included: class names for Keras 3 weight paths. */
  fileOrder: Array<{ name: string; className: string }>;
}

const MODEL_CLASSES = ['Sequential', 'Model', 'Functional'];

interface RawLayer {
  index: number;
  path: string;
  name: string;
  className: string;
  config: Record<string, unknown>;
  entry: Record<string, unknown>;
}

/** The file's model from `modelTopology`: stock tfjs puts the model there, the converter under `model_config`. */
export function readGraph(topology: unknown, where: Where): FileGraph {
  if (!isObject(topology))
    throw fileConfigError(at(where, 'modelTopology'), 'modelTopology must be an object describing the model');
  const nested = isObject(topology.model_config);
  const root = (nested ? topology.model_config : topology) as Record<string, unknown>;
  const rootPath = nested ? 'modelTopology.model_config' : 'modelTopology';
  const kerasVersion = typeof topology.keras_version === 'string' ? topology.keras_version : '';
  const className = root.class_name;
  if (typeof className !== 'string' || !MODEL_CLASSES.includes(className))
    throw fileConfigError(
      at(where, `${rootPath}.class_name`),
      `the model's class is ${quote(className)}; expected ${MODEL_CLASSES.join(', ')} (a Keras or TensorFlow.js layers model)`,
    );
  const config = root.config;
  // Keras before 2.2 wrote a Sequential model's config as the bare list of layers.
  const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  const listPath = Array.isArray(config) ? `${rootPath}.config` : `${rootPath}.config.layers`;
  if (!Array.isArray(list) || list.length === 0)
    throw fileConfigError(at(where, listPath), 'the model lists no layers; expected a non-empty list of layers');
  const raw = list.map((entry, index) => rawLayer(entry, index, `${listPath}[${index}]`, where));
  const seen = new Map<string, RawLayer>();
  for (const l of raw) {
    const first = seen.get(l.name);
    if (first)
      throw fileConfigError(
        at(where, l.path),
        `two layers are named '${l.name}' (${first.path} and this one); expected unique layer names`,
      );
    seen.set(l.name, l);
  }
  const name = isObject(config) && typeof config.name === 'string' ? config.name : 'model';
  const fileOrder = raw.map((l) => ({ name: l.name, className: l.className }));
  const graph =
    className === 'Sequential'
      ? sequentialGraph(raw, isObject(config) ? config : {}, `${rootPath}.config`, where)
      : functionalGraph(raw, isObject(config) ? config : {}, `${rootPath}.config`, where);
  return { name, kerasVersion, fileOrder, ...graph };
}

function rawLayer(entry: unknown, index: number, path: string, where: Where): RawLayer {
  if (!isObject(entry) || typeof entry.class_name !== 'string' || !isObject(entry.config))
    throw fileConfigError(at(where, path), 'expected a layer: an object with class_name and config');
  const name = typeof entry.name === 'string' ? entry.name : entry.config.name;
  if (typeof name !== 'string' || name === '')
    throw fileConfigError(at(where, path), `the ${entry.class_name} layer has no name; expected config.name`);
  if (MODEL_CLASSES.includes(entry.class_name))
    throw fileConfigError(
      at(where, path),
      `layer '${name}' is a nested model (${entry.class_name}); only flat models are supported`,
      'rebuild the model with the inner model’s layers inlined',
    );
  return { index, path, name, className: entry.class_name, config: entry.config, entry };
}

/** The per-sample input shape from a batch shape (`[null, 28, 28, 1]` → `[28, 28, 1]`). */
function sampleShape(batchShape: unknown, where: Where, whose: string): number[] {
  const ok =
    Array.isArray(batchShape) &&
    batchShape.length >= 2 &&
    (batchShape[0] === null || Number.isInteger(batchShape[0])) &&
    batchShape.slice(1).every((d) => Number.isInteger(d) && (d as number) >= 1);
  if (!ok)
    throw fileConfigError(
      where,
      `${whose} has input shape ${quote(batchShape)}; expected [null, d1, d2, …] with every sample dimension a fixed positive integer`,
    );
  return (batchShape as number[]).slice(1);
}

/** An InputLayer's per-sample shape: Keras 2 and tfjs write `batch_input_shape`, Keras 3 `batch_shape`. */
function inputLayerShape(l: RawLayer, where: Where): number[] {
  const shape = l.config.batch_input_shape ?? l.config.batch_shape;
  if (shape === undefined)
    throw fileConfigError(
      at(where, `${l.path}.config`),
      `InputLayer '${l.name}' declares no shape; expected batch_input_shape or batch_shape`,
    );
  return sampleShape(shape, at(where, `${l.path}.config`), `InputLayer '${l.name}'`);
}

function sequentialGraph(
  raw: RawLayer[],
  config: Record<string, unknown>,
  configPath: string,
  where: Where,
): Pick<FileGraph, 'input' | 'layers'> {
  const [first] = raw as [RawLayer];
  const misplaced = raw.find((l, i) => i > 0 && l.className === 'InputLayer');
  if (misplaced)
    throw fileConfigError(
      at(where, misplaced.path),
      `InputLayer '${misplaced.name}' inside the model; a Sequential model has one input, first`,
    );
  let input: FileGraph['input'];
  let layers = raw;
  if (first.className === 'InputLayer') {
    input = { name: first.name, shape: inputLayerShape(first, where), path: first.path };
    layers = raw.slice(1);
  } else {
    // tfjs and older Keras carry the input shape on the first layer; Keras 3 may keep only build_input_shape.
    const own = first.config.batch_input_shape ?? first.config.batch_shape;
    const shape = own ?? config.build_input_shape;
    if (shape === undefined)
      throw fileConfigError(
        at(where, `${first.path}.config`),
        `the first layer '${first.name}' declares no input shape; expected batch_input_shape on it or an InputLayer before it`,
      );
    const path = own !== undefined ? `${first.path}.config` : `${configPath}.build_input_shape`;
    input = { name: `${first.name}_input`, shape: sampleShape(shape, at(where, path), 'the model'), path };
  }
  if (layers.length === 0) throw fileConfigError(at(where, first.path), 'the model has an input and no layers');
  return {
    input,
    layers: layers.map((l, i) => ({
      index: l.index,
      path: l.path,
      name: l.name,
      className: l.className,
      config: l.config,
      inputs: [i === 0 ? input.name : layers[i - 1]!.name],
    })),
  };
}

/** A tensor reference `[layer, node, tensor]`; node ≠ 0 is a shared layer's later call, tensor ≠ 0 a second output. */
function checkRef(ref: unknown, where: Where, reader: string): string {
  if (!Array.isArray(ref) || typeof ref[0] !== 'string')
    throw fileConfigError(where, `${reader} names its input as ${quote(ref)}; expected [layer name, node, tensor]`);
  const [name, node = 0, tensor = 0] = ref as [string, unknown, unknown];
  if (node !== 0)
    throw fileConfigError(
      where,
      `${reader} reads call ${node} of layer '${name}': a layer used twice (shared layers) is not supported`,
    );
  if (tensor !== 0)
    throw fileConfigError(
      where,
      `${reader} reads output ${tensor} of layer '${name}'; only single-output layers are supported`,
    );
  return name;
}

/** Keras 3's `{class_name: '__keras_tensor__', config: {keras_history: [layer, node, tensor]}}`, anywhere in `v`. */
function kerasTensors(v: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) kerasTensors(x, out);
  else if (isObject(v)) {
    if (v.class_name === '__keras_tensor__' && isObject(v.config)) out.push(v.config.keras_history);
    else for (const x of Object.values(v)) kerasTensors(x, out);
  }
  return out;
}

/** What a functional model's layer reads, from Keras 2 (`[[[name, 0, 0, {}], …]]`) or Keras 3 (`[{args, kwargs}]`) inbound nodes. */
function inboundNames(l: RawLayer, where: Where): string[] {
  const nodes = l.entry.inbound_nodes;
  const path = at(where, `${l.path}.inbound_nodes`);
  const reader = `layer '${l.name}' (${l.className})`;
  if (!Array.isArray(nodes) || nodes.length === 0)
    throw fileConfigError(path, `${reader} reads no layer; expected inbound_nodes naming its input`);
  if (nodes.length > 1)
    throw fileConfigError(
      path,
      `${reader} is called ${nodes.length} times: a layer used twice (shared layers) is not supported`,
    );
  const node = nodes[0];
  let refs: unknown[];
  if (Array.isArray(node)) refs = node;
  else if (isObject(node) && 'args' in node) {
    refs = kerasTensors(node.args);
    if (kerasTensors(node.kwargs).length)
      throw fileConfigError(
        path,
        `${reader} reads tensors through keyword arguments; only positional inputs are supported`,
      );
  } else
    throw fileConfigError(
      path,
      `${reader} has an inbound node ${quote(node)}; expected a list of inputs or {args, kwargs}`,
    );
  if (refs.length === 0)
    throw fileConfigError(path, `${reader} reads no layer; expected inbound_nodes naming its input`);
  return refs.map((r) => checkRef(r, path, reader));
}

/** `input_layers`/`output_layers`: a list of references, or (Keras 3, one tensor) a single one. */
function modelEnds(v: unknown, where: Where, what: string): string {
  const refs = Array.isArray(v) && typeof v[0] === 'string' ? [v] : v;
  if (!Array.isArray(refs) || refs.length !== 1)
    throw fileConfigError(
      where,
      Array.isArray(refs)
        ? `the model has ${refs.length} ${what}s; only single-input, single-output models are supported`
        : `the model's ${what}s are ${quote(v)}; expected a list of [layer, node, tensor]`,
    );
  return checkRef(refs[0], where, `the model's ${what}`);
}

function functionalGraph(
  raw: RawLayer[],
  config: Record<string, unknown>,
  configPath: string,
  where: Where,
): Pick<FileGraph, 'input' | 'layers'> {
  const inputs = raw.filter((l) => l.className === 'InputLayer');
  if (inputs.length !== 1)
    throw fileConfigError(
      at(where, `${configPath}.layers`),
      inputs.length === 0
        ? 'the model has no InputLayer; expected one'
        : `the model has ${inputs.length} inputs (${inputs.map((l) => l.name).join(', ')}); only single-input models are supported`,
    );
  const inputLayer = inputs[0]!;
  const input = { name: inputLayer.name, shape: inputLayerShape(inputLayer, where), path: inputLayer.path };
  const declaredInput = modelEnds(config.input_layers, at(where, `${configPath}.input_layers`), 'input');
  if (declaredInput !== input.name)
    throw fileConfigError(
      at(where, `${configPath}.input_layers`),
      `the model's input is '${declaredInput}', which is not its InputLayer '${input.name}'`,
    );
  const output = modelEnds(config.output_layers, at(where, `${configPath}.output_layers`), 'output');
  const byName = new Map(raw.map((l) => [l.name, l]));
  if (!byName.has(output))
    throw fileConfigError(
      at(where, `${configPath}.output_layers`),
      `the model's output '${output}' is not one of its layers`,
    );
  if (output === input.name)
    throw fileConfigError(
      at(where, `${configPath}.output_layers`),
      'the model returns its input; expected at least one layer',
    );
  const layers: FileLayer[] = raw
    .filter((l) => l !== inputLayer)
    .map((l) => ({
      index: l.index,
      path: l.path,
      name: l.name,
      className: l.className,
      config: l.config,
      inputs: inboundNames(l, where),
    }));
  for (const l of layers)
    for (const n of l.inputs)
      if (!byName.has(n))
        throw fileConfigError(
          at(where, `${l.path}.inbound_nodes`),
          `layer '${l.name}' reads '${n}', which is not a layer of the model`,
        );
  return { input, layers: topological(layers, input.name, output, where) };
}

/**
 * The layers in an order where each comes after what it reads (the file's order where it allows),
 * ending with the output. A layer that does not lead to the output is an error: the IR has one output.
 */
function topological(layers: FileLayer[], input: string, output: string, where: Where): FileLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const needed = new Set<string>();
  const stack = [output];
  while (stack.length) {
    const n = stack.pop()!;
    if (needed.has(n) || n === input) continue;
    needed.add(n);
    stack.push(...byName.get(n)!.inputs);
  }
  const dangling = layers.find((l) => !needed.has(l.name));
  if (dangling)
    throw fileConfigError(
      at(where, dangling.path),
      `layer '${dangling.name}' (${dangling.className}) does not lead to the model's output '${output}'; only single-output models are supported`,
    );
  const done = new Set([input]);
  const order: FileLayer[] = [];
  while (order.length < layers.length) {
    const next = layers.find((l) => !done.has(l.name) && l.inputs.every((n) => done.has(n)));
    if (!next) {
      const stuck = layers.find((l) => !done.has(l.name))!;
      throw fileConfigError(
        at(where, stuck.path),
        `layer '${stuck.name}' is part of a cycle; expected an acyclic graph`,
      );
    }
    done.add(next.name);
    order.push(next);
  }
  return order;
}
