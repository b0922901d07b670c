import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileError, sha256Hex, type WeightTensor } from '@squash/core';
import type { ModelSpec } from '../layer_spec.js';
import { parseModelJson } from './json_text.js';
import { readTopology } from './topology.js';
import { type ModelFileEntry, readWeights } from './weights.js';
import { at, fileConfigError, isObject, type Where } from './where.js';

export { SUPPORTED_CLASSES as MODEL_FILE_LAYER_CLASSES } from './keras_layers.js';
export type { ModelFileEntry } from './weights.js';

/** A TensorFlow.js layers model read from its files into the layer IR. */
export interface ModelFile {
  /** Absolute path of model.json. */
  path: string;
  /** Graph-form ModelSpec: layer names as in the file, `inputs` from the file's graph, `inputShape` from its input. */
  spec: ModelSpec;
  /** Every weight as `<layer name>/<role>` float32: exactly the slots `planLayers(spec, spec.inputShape)` declares. */
  weights: WeightTensor[];
  /** model.json and each shard: name relative to model.json's directory, bytes, sha256. */
  files: ModelFileEntry[];
  /** One hash over the files' names and contents (not where they are): what baseline and trial ids use. */
  sha256: string;
}

const LAYERS_MODEL_HINT =
  'expected a TensorFlow.js layers model: the model.json written by model.save() or by tensorflowjs_converter --output_format=tfjs_layers_model';

/**
 * Reads a TensorFlow.js layers model (model.json and its weight shards; a directory holding
 * model.json also works) without TensorFlow.js. `shownAs` is how errors name the file (the path as
 * the user wrote it). Problems are FileErrors (cannot read) or ConfigErrors located in model.json.
 */
export function readModelFile(path: string, opts: { shownAs?: string } = {}): ModelFile {
  let file = resolve(path);
  let shown = opts.shownAs ?? path;
  try {
    if (statSync(file).isDirectory()) {
      file = join(file, 'model.json');
      shown = join(shown, 'model.json');
    }
  } catch {} // reading it below reports what is wrong
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (e) {
    throw fileError(e, shown, 'reading the model file');
  }
  const where: Where = { file: shown };
  const json = parseModelJson(text.toString('utf8'), shown);
  if (!isObject(json)) throw fileConfigError(where, 'the model file is not a JSON object', LAYERS_MODEL_HINT);
  if (json.format === 'graph-model')
    throw fileConfigError(
      at(where, 'format'),
      'this is a TensorFlow.js graph model, which has no layers to read',
      'convert the Keras model with tensorflowjs_converter --output_format=tfjs_layers_model',
    );
  for (const key of ['modelTopology', 'weightsManifest'])
    if (json[key] === undefined || json[key] === null)
      throw fileConfigError(where, `the model file has no ${key}`, LAYERS_MODEL_HINT);
  const topology = readTopology(json.modelTopology, where);
  const { weights, shards } = readWeights(json.weightsManifest, dirname(file), where, topology);
  const files = [{ name: basename(file), bytes: text.length, sha256: sha256Hex(text) }, ...shards];
  return {
    path: file,
    spec: topology.spec,
    weights,
    files,
    sha256: sha256Hex(JSON.stringify(files.map((f) => [f.name, f.sha256]))),
  };
}
