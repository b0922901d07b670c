import * as tf from '@tensorflow/tfjs';
import { readSqz, SqzError } from '../format/index.js';
import { type ActivationQuant, SquashFakeQuant } from './fake_quant.js';
import { buildLayersModel } from './layers.js';
import { activationPoints, type ModelSpec, specGraph } from './spec.js';

/** What a `.sqz` header says about its model: enough to rebuild and run it. */
export interface SqzModelInfo {
  format: 'squash-model';
  spec: ModelSpec;
  /** The per-sample shape of the data the model was trained and evaluated on. */
  inputShape: number[];
  /** Hidden-activation fake quantization applied at inference, by the layer that computed the activation. */
  activations?: Record<string, ActivationQuant>;
}

/** Writes every weight (`<layer>/<role>`) from the file; a weight missing or left over is an error. */
function setWeights(model: tf.LayersModel, tensors: ReturnType<typeof readSqz>['tensors']): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const name = `${layer.name}/${w.originalName.split('/').pop()}`;
      const t = byName.get(name);
      if (!t) throw new SqzError(`tensors: no tensor ${name}, which the model's layer ${layer.name} needs`);
      byName.delete(name);
      return tf.tensor(t.values, t.shape);
    });
    if (values.length) {
      layer.setWeights(values);
      tf.dispose(values);
    }
  }
  if (byName.size) throw new SqzError(`tensors: ${[...byName.keys()].join(', ')} belong to no layer of the model`);
}

/**
 * Decodes a `.sqz` file into a stock TensorFlow.js `LayersModel`: the spec from the header, every
 * weight from its section, and the recorded activation quantization as `SquashFakeQuant` layers,
 * so `model.predict` reproduces the accuracy Squash recorded. Malformed input throws `SqzError`.
 */
export function decodeSqz(bytes: Uint8Array | ArrayBuffer): { model: tf.LayersModel; info: SqzModelInfo } {
  const { model: header, tensors } = readSqz(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  const info = header as SqzModelInfo;
  if (info?.format !== 'squash-model')
    throw new SqzError(`header model.format: expected 'squash-model', found ${JSON.stringify(info?.format)}`);
  const acts = info.activations ?? {};
  let model: tf.LayersModel | undefined;
  try {
    // Each activation's fake quantization goes after the layer that ends it (`at`), named by the
    // layer that computed it (`name`), as the header keys it.
    const at = new Map(activationPoints(specGraph(info.spec)).map((p) => [p.at, p.name]));
    model = buildLayersModel(info.spec, info.inputShape, {
      kernelInitializer: () => 'zeros',
      after: (layer) => {
        const name = at.get(layer);
        const q = name !== undefined && Object.hasOwn(acts, name) ? acts[name] : undefined;
        return q ? [new SquashFakeQuant({ ...q, name: `${name}_fakequant` })] : [];
      },
    });
    setWeights(model, tensors);
    return { model, info };
  } catch (e) {
    model?.dispose();
    throw e instanceof SqzError ? e : new SqzError(`header model: cannot build it: ${(e as Error).message}`);
  }
}

/**
 * Loads a `.sqz` model from a URL (fetched), a fetch `Response`, or the file's bytes. In Node, read
 * a file yourself (`readFileSync`) and pass its bytes.
 */
export async function loadSqz(source: string | URL | Response | ArrayBuffer | Uint8Array): Promise<tf.LayersModel> {
  if (typeof source === 'string' || source instanceof URL) source = await fetch(source);
  if (source instanceof Response) {
    if (!source.ok) throw new Error(`loadSqz: ${source.url}: HTTP ${source.status} ${source.statusText}`);
    source = await source.arrayBuffer();
  }
  return decodeSqz(source).model;
}
