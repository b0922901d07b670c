import { ConfigError, SpecError } from '@squash/core';
import { planLayers, type PlannedLayer } from '../layer_graph.js';
import { INPUT, type LayerSpec, type ModelSpec, modelSpecProblems } from '../layer_spec.js';
import { type FileGraph, type FileLayer, readGraph } from './keras_graph.js';
import { convertLayer } from './keras_layers.js';
import { at, fileConfigError, locate, shapeText, type Where } from './where.js';

/** The file's model as our graph-form spec, planned with its own input shape. */
export interface FileTopology {
  spec: ModelSpec;
  plan: PlannedLayer[];
  graph: FileGraph;
  /** The file's layers by name (class and JSON path for messages). */
  layers: Map<string, FileLayer>;
}

/**
 * `modelTopology` as a ModelSpec: layer names as in the file, `inputs` from its graph, `inputShape`
 * from its input. Problems the IR's own checks find (order, shapes) are located at the file's layer.
 */
export function readTopology(topology: unknown, where: Where): FileTopology {
  const graph = readGraph(topology, where);
  const keras3 = graph.kerasVersion.startsWith('3.');
  const converted = graph.layers.map((l) => convertLayer(l, where, keras3));
  const read = (n: string) => (n === graph.input.name ? INPUT : n);
  const spec: ModelSpec = {
    name: graph.name,
    layers: graph.layers.map(
      (l, i) => ({ ...converted[i]!.body, name: l.name, inputs: l.inputs.map(read) }) as LayerSpec,
    ),
    inputShape: graph.input.shape,
  };
  const problems = modelSpecProblems(spec).map((p) => {
    const l = graph.layers[p.path[1] as number];
    return l
      ? fileConfigError(at(where, l.path), `layer '${l.name}' (${l.className}): ${p.message}`)
      : fileConfigError(where, p.message);
  });
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new SpecError(problems);
  let plan: PlannedLayer[];
  try {
    plan = planLayers(spec, graph.input.shape);
  } catch (e) {
    throw relocate(e, graph, where);
  }
  const byName = new Map(graph.layers.map((l) => [l.name, l]));
  plan.forEach((p) => {
    const axis = converted[p.specIndex]?.axis;
    if (!axis || axis.value === p.inShape.length) return;
    const l = byName.get(p.name)!;
    throw fileConfigError(
      at(where, `${l.path}.config.${axis.field}`),
      `layer '${l.name}' (${l.className}): ${axis.field} ${axis.value} is not the last axis of its input ${shapeText(p.inShape)}; expected -1 or ${p.inShape.length}`,
    );
  });
  return { spec, plan, graph, layers: byName };
}

/** planLayers locates its errors at `model.layers[i]`; here they belong to the file's layer i. */
function relocate(e: unknown, graph: FileGraph, where: Where): unknown {
  if (!(e instanceof ConfigError)) return e;
  const index = /^model\.layers\[(\d+)\]/.exec(e.location?.path ?? '');
  const l = index ? graph.layers[Number(index[1])] : undefined;
  const message = l ? `layer '${l.name}' (${l.className}): ${e.message}` : e.message;
  return new ConfigError(message, { location: locate(at(where, l?.path ?? graph.input.path)), hint: e.hint, cause: e });
}
