import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileError, fileError, sha256Hex, type WeightTensor } from '@squash/core';
import { decodeWeight } from './decode.js';
import type { FileLayer } from './keras_graph.js';
import { type ManifestWeight, readManifest } from './manifest.js';
import type { FileTopology } from './topology.js';
import { weightNamer } from './weight_names.js';
import { at, fileConfigError, shapeText, type Where } from './where.js';

/** A file the model consists of: name relative to model.json's directory, size and content hash. */
export interface ModelFileEntry {
  name: string;
  bytes: number;
  sha256: string;
}

function readShard(dir: string, name: string, where: Where): Uint8Array {
  try {
    return readFileSync(join(dir, name));
  } catch (e) {
    const mapped = fileError(e, where.file, `weight shard '${name}' listed in the weights manifest`);
    if (!(mapped instanceof FileError)) throw mapped;
    throw new FileError(
      mapped.message,
      mapped.code,
      { location: { file: where.file, path: where.path }, hint: mapped.hint, cause: e },
      mapped.exitCode,
    );
  }
}

/**
 * TensorFlow.js (4.22) leaves a SeparableConv2D's depth_multiplier out of the config it saves, so
 * such a file has a depthwise kernel wider than its config says; say how to repair it.
 */
function lostDepthMultiplier(layer: FileLayer | undefined, role: string, found: number[], needed: number[]) {
  const onlyLast = found.length === 4 && found.slice(0, 3).join() === needed.slice(0, 3).join();
  if (layer?.className !== 'SeparableConv2D' || role !== 'depthwise_kernel' || !onlyLast) return undefined;
  if (layer.config.depth_multiplier !== undefined) return undefined;
  return `TensorFlow.js does not save a SeparableConv2D's depth_multiplier: add "depth_multiplier": ${found[3]} to ${layer.path}.config`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Every weight of the manifest, read from its shards and checked against the planned model: each
 * slot `planLayers` declares present once with its shape, nothing else (optimizer state aside).
 * Returned as `<layer>/<role>` float32 tensors in plan order, with the shards read.
 */
export function readWeights(
  manifest: unknown,
  dir: string,
  where: Where,
  topology: FileTopology,
): { weights: WeightTensor[]; shards: ModelFileEntry[] } {
  const groups = readManifest(manifest, where);
  const shards = new Map<string, ModelFileEntry>();
  const decoded: Array<{ w: ManifestWeight; values: Float32Array }> = [];
  for (const g of groups) {
    const parts = g.paths.map((p, i) => {
      const bytes = readShard(dir, p, at(where, `weightsManifest[${g.index}].paths[${i}]`));
      shards.set(p, { name: p, bytes: bytes.length, sha256: sha256Hex(bytes) });
      return bytes;
    });
    const total = parts.reduce((n, b) => n + b.length, 0);
    const needed = g.weights.reduce((n, w) => n + w.bytes, 0);
    if (total !== needed) {
      const files = g.paths.map((p) => `'${p}'`).join(', ');
      throw fileConfigError(
        at(where, `weightsManifest[${g.index}]`),
        `weight group ${g.index}: ${g.paths.length === 1 ? `shard ${files} has` : `shards ${files} have`} ${total} bytes; its ${plural(g.weights.length, 'weight')} need ${needed} bytes`,
        total < needed
          ? 'a shard is truncated or missing from paths'
          : 'a shard is too long or the manifest lists too few weights',
      );
    }
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    let offset = 0;
    for (const w of g.weights) {
      decoded.push({ w, values: decodeWeight(bytes, offset, w) });
      offset += w.bytes;
    }
  }
  return { weights: matchWeights(decoded, where, topology), shards: [...shards.values()] };
}

function matchWeights(
  decoded: Array<{ w: ManifestWeight; values: Float32Array }>,
  where: Where,
  { plan, graph, layers }: FileTopology,
): WeightTensor[] {
  const nameOf = weightNamer(graph, plan);
  const who = (name: string) => `layer '${name}' (${layers.get(name)?.className ?? 'Reshape'})`;
  const found = new Map<string, { w: ManifestWeight; values: Float32Array }>();
  for (const d of decoded) {
    if (d.w.optimizer) continue;
    const key = nameOf(d.w.name);
    const here = at(where, d.w.path);
    if (!key) {
      const named = plan.filter((p) => p.weights.length).map((p) => p.name);
      throw fileConfigError(
        here,
        `weight '${d.w.name}' belongs to no layer of the model; expected <layer>/<role> naming one of its layers with weights (${named.join(', ') || 'none'})`,
      );
    }
    const { layer, role } = key;
    const slot = layer.weights.find((s) => s.role === role);
    if (!slot) {
      const roles = layer.weights.map((s) => s.role);
      throw fileConfigError(
        here,
        `weight '${d.w.name}': ${who(layer.name)} has no weight '${role}'; ${roles.length ? `its weights are ${roles.join(', ')}` : 'it has no weights'}`,
      );
    }
    const id = `${layer.name}/${role}`;
    const twice = found.get(id);
    if (twice)
      throw fileConfigError(
        here,
        `weights '${twice.w.name}' (${twice.w.path}) and '${d.w.name}' are both ${id}; expected one`,
      );
    if (shapeText(d.w.shape) !== shapeText(slot.shape))
      throw fileConfigError(
        at(where, `${d.w.path}.shape`),
        `weight '${d.w.name}' has shape ${shapeText(d.w.shape)}; ${who(layer.name)} needs ${role} of shape ${shapeText(slot.shape)}`,
        lostDepthMultiplier(layers.get(layer.name), role, d.w.shape, slot.shape),
      );
    found.set(id, d);
  }
  return plan.flatMap((p) =>
    p.weights.map((slot) => {
      const id = `${p.name}/${slot.role}`;
      const d = found.get(id);
      if (!d)
        throw fileConfigError(
          at(where, layers.get(p.name)?.path),
          `${who(p.name)} needs weight '${id}' of shape ${shapeText(slot.shape)}, which the weights manifest does not list`,
        );
      return { name: id, shape: [...slot.shape], values: d.values };
    }),
  );
}
