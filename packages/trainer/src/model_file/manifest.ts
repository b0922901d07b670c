import { isAbsolute, posix } from 'node:path';
import { at, fileConfigError, isObject, quote, type Where } from './where.js';

export const QUANTIZED = { uint8: 1, uint16: 2, float16: 2 } as const;
export type QuantizedDtype = keyof typeof QUANTIZED;
const DTYPES = ['float32', 'int32'] as const;
const KNOWN_DTYPES = `${DTYPES.join(' or ')}, optionally quantized to ${Object.keys(QUANTIZED).join(', ')}`;

/** One entry of the weights manifest, checked. */
export interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: (typeof DTYPES)[number];
  /** tfjs' weight quantization: affine uint8/uint16 (q·scale + min) or float16. */
  quantization?: { dtype: QuantizedDtype; min: number; scale: number };
  /** Bytes it takes in its group's shards. */
  bytes: number;
  /** JSON path in model.json (`weightsManifest[0].weights[3]`). */
  path: string;
  /** Optimizer state saved with the model (tfjs `group: 'optimizer'`, Keras 3 `optimizer/…`): read past, not used. */
  optimizer: boolean;
}

/** A group of the manifest: its weights lie in its shards concatenated in `paths` order. */
export interface ManifestGroup {
  index: number;
  /** Shard names relative to model.json's directory, normalized (`group1-shard1of2.bin`). */
  paths: string[];
  weights: ManifestWeight[];
}

/**
 * A shard path as written in the manifest, relative to model.json's directory; an absolute path, a
 * URL or one leaving that directory is refused so a model file reads only files beside it.
 */
function shardPath(p: unknown, where: Where): string {
  if (typeof p !== 'string' || p === '')
    throw fileConfigError(
      where,
      `weight shard path ${quote(p)} is not a file name; expected a name relative to model.json`,
    );
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) && !/^[a-z]:[\\/]/i.test(p))
    throw fileConfigError(where, `weight shard path '${p}' is a URL; expected a file name relative to model.json`);
  if (isAbsolute(p) || /^[a-z]:[\\/]/i.test(p) || /^[\\/]/.test(p))
    throw fileConfigError(where, `weight shard path '${p}' is absolute; expected a file name relative to model.json`);
  const normalized = posix.normalize(p.replace(/\\/g, '/'));
  if (normalized === '..' || normalized.startsWith('../'))
    throw fileConfigError(
      where,
      `weight shard path '${p}' leaves the model's directory; expected a file in model.json's directory or below it`,
    );
  return normalized;
}

function manifestWeight(w: unknown, where: Where): ManifestWeight {
  const path = where.path!;
  if (!isObject(w) || typeof w.name !== 'string')
    throw fileConfigError(where, 'expected a weight: an object with name, shape and dtype');
  const { name } = w;
  const shape = w.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw fileConfigError(
      at(where, `${path}.shape`),
      `weight '${name}' has shape ${quote(shape)}; expected a list of sizes`,
    );
  const dtype = w.dtype ?? 'float32';
  if (!(DTYPES as readonly unknown[]).includes(dtype))
    throw fileConfigError(
      at(where, `${path}.dtype`),
      `weight '${name}' has dtype ${quote(dtype)}; expected ${KNOWN_DTYPES}`,
    );
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  let quantization: ManifestWeight['quantization'];
  if (w.quantization !== undefined && w.quantization !== null) {
    const q = w.quantization;
    const qWhere = at(where, `${path}.quantization`);
    if (!isObject(q) || !Object.hasOwn(QUANTIZED, q.dtype as string))
      throw fileConfigError(
        qWhere,
        `weight '${name}' is quantized to ${quote(isObject(q) ? q.dtype : q)}; expected ${KNOWN_DTYPES}`,
      );
    const qDtype = q.dtype as QuantizedDtype;
    if (qDtype === 'float16' && dtype !== 'float32')
      throw fileConfigError(
        qWhere,
        `weight '${name}' is ${dtype} quantized to float16; expected float16 only for float32`,
      );
    const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    if (qDtype !== 'float16' && !(finite(q.min) && finite(q.scale)))
      throw fileConfigError(
        qWhere,
        `weight '${name}' is quantized to ${qDtype} without numeric min and scale; expected both`,
      );
    quantization = { dtype: qDtype, min: (q.min as number) ?? 0, scale: (q.scale as number) ?? 1 };
  }
  const bytes = count * (quantization ? QUANTIZED[quantization.dtype] : 4);
  const optimizer = w.group === 'optimizer' || name.startsWith('optimizer/');
  return {
    name,
    shape: shape as number[],
    dtype: dtype as ManifestWeight['dtype'],
    quantization,
    bytes,
    path,
    optimizer,
  };
}

/** `weightsManifest`: groups of weights, each stored in its list of shard files. */
export function readManifest(manifest: unknown, where: Where): ManifestGroup[] {
  if (!Array.isArray(manifest))
    throw fileConfigError(at(where, 'weightsManifest'), 'weightsManifest must be a list of {paths, weights} groups');
  return manifest.map((g, index) => {
    const path = `weightsManifest[${index}]`;
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights))
      throw fileConfigError(at(where, path), 'expected a weight group: an object with paths and weights lists');
    if (g.paths.length === 0 && g.weights.length > 0)
      throw fileConfigError(at(where, `${path}.paths`), 'the weight group lists weights but no shard files');
    return {
      index,
      paths: g.paths.map((p, i) => shardPath(p, at(where, `${path}.paths[${i}]`))),
      weights: g.weights.map((w, i) => manifestWeight(w, at(where, `${path}.weights[${i}]`))),
    };
  });
}
