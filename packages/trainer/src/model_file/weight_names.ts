import type { PlannedLayer } from '../layer_graph.js';
import type { FileGraph } from './keras_graph.js';

/** Keras' `naming.to_snake_case` (`DepthwiseConv2D` → `depthwise_conv2d`). */
export function snakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * Keras 3 `.keras` archives store weights by position, not name: `layers/<snake_case class>[_n]/vars/<i>`,
 * `_n` counting earlier layers of the same class in the model's layer list (saving_lib's
 * `_save_container_state`). The converter copies those paths as weight names.
 */
function archiveLayers(graph: FileGraph): Map<string, string> {
  const seen = new Map<string, number>();
  const out = new Map<string, string>();
  for (const l of graph.fileOrder) {
    const base = snakeCase(l.className);
    const n = seen.get(base);
    seen.set(base, n === undefined ? 0 : n + 1);
    out.set(`layers/${n === undefined ? base : `${base}_${n + 1}`}`, l.name);
  }
  return out;
}

/**
 * Maps a manifest weight name to `<layer>/<role>`. Names seen: `<layer>/<role>` (tfjs, Keras 2 `.h5`
 * with `:0` dropped by the converter), `<model>/<layer>/<role>` (Keras 3 `.h5`: variable paths carry
 * the Sequential model's name), and Keras 3 archive paths (above). Keras 3 names a depthwise
 * convolution's kernel `kernel`; tfjs and the IR call it `depthwise_kernel`.
 */
export function weightNamer(
  graph: FileGraph,
  plan: PlannedLayer[],
): (name: string) => { layer: PlannedLayer; role: string } | undefined {
  const layers = new Map(plan.map((p) => [p.name, p]));
  const archive = archiveLayers(graph);
  return (raw) => {
    const name = raw.endsWith(':0') ? raw.slice(0, -2) : raw;
    const stored = /^(layers\/[^/]+)\/vars\/(\d+)$/.exec(name);
    if (stored) {
      const layer = layers.get(archive.get(stored[1]!) ?? '');
      if (!layer) return undefined;
      return { layer, role: layer.weights[Number(stored[2])]?.role ?? `vars/${stored[2]}` };
    }
    const segments = name.split('/');
    const role = segments[segments.length - 1]!;
    for (let k = 0; k < segments.length - 1; k++) {
      const layer = layers.get(segments.slice(k, -1).join('/'));
      if (layer)
        return { layer, role: layer.type === 'depthwiseConv2d' && role === 'kernel' ? 'depthwise_kernel' : role };
    }
    return undefined;
  };
}
