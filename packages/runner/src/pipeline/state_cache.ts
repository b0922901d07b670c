import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QuantizedTensor } from '@squash/compressors';
import type { ActivationQuant } from '@squash/contract';
import type { WeightTensor } from '@squash/core';
import { buildModel, getWeights, setWeights } from '@squash/trainer';
type WeightTensorLike = WeightTensor;
import type { PipelineState } from './state.js';

/**
 * Content-addressed cache of pipeline states after training stages (`<cacheDir>/states/<key>/`):
 * trials that share a trained prefix — Deep Compression's prune → retrain before 5- or 6-bit
 * k-means — train it once, across trials, sweeps and experiments. The key hashes the baseline
 * and the stages so far, so a state is only ever reused for exactly the same computation.
 */
interface Manifest {
  spec: PipelineState['spec'];
  inputShape: number[];
  weights: Array<{ name: string; shape: number[]; offset: number; length: number }>;
  masks: Array<{ name: string; offset: number; length: number }>;
  quantized: Array<
    Omit<QuantizedTensor, 'codebook' | 'codes' | 'params' | 'zeroCodes'> & {
      name: string;
      codebook: [number, number];
      codes: [number, number];
      params: [number, number];
      zeroCodes: number[];
    }
  >;
  activations: Array<[string, ActivationQuant]>;
  huffman: boolean;
  indexBits: number | 'auto';
  trainSeconds: number;
  history: PipelineState['history'];
}

class Blob {
  private parts: Uint8Array[] = [];
  private length = 0;
  add(a: Float32Array | Uint8Array | Uint16Array): [number, number] {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
    const at = this.length;
    this.parts.push(bytes);
    this.length += bytes.length;
    return [at, bytes.length];
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export function saveState(dir: string, state: PipelineState, inputShape: number[]): void {
  if (existsSync(join(dir, 'state.json'))) return;
  const blob = new Blob();
  const weights = getWeights(state.model).map((w: WeightTensorLike) => {
    const [offset, length] = blob.add(w.values);
    return { name: w.name, shape: w.shape, offset, length };
  });
  const masks = [...state.masks].map(([name, m]) => {
    const [offset, length] = blob.add(m);
    return { name, offset, length };
  });
  const quantized = [...state.quantized].map(([name, q]) => ({
    name,
    scheme: q.scheme,
    bits: q.bits,
    shape: q.shape,
    channelAxis: q.channelAxis,
    levels: q.levels,
    codebook: blob.add(q.codebook),
    codes: blob.add(q.codes),
    params: blob.add(q.params),
    zeroCodes: Array.from(q.zeroCodes),
  }));
  const manifest: Manifest = {
    spec: state.spec,
    inputShape,
    weights,
    masks,
    quantized,
    activations: [...state.activations],
    huffman: state.huffman,
    indexBits: state.indexBits,
    trainSeconds: state.trainSeconds,
    history: state.history,
  };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'state.bin'), blob.bytes());
  writeFileSync(join(tmp, 'state.json'), JSON.stringify(manifest));
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process saved the same state first
  }
}

/** The cached state, or undefined. `seed` only names the rebuilt model's initializers (all overwritten). */
export function loadState(dir: string): PipelineState | undefined {
  if (!existsSync(join(dir, 'state.json'))) return undefined;
  const m = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Manifest;
  const bin = readFileSync(join(dir, 'state.bin'));
  const bytes = (offset: number, length: number) =>
    bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + length);
  const model = buildModel(m.spec, m.inputShape, 0);
  setWeights(
    model,
    m.weights.map((w) => ({ name: w.name, shape: w.shape, values: new Float32Array(bytes(w.offset, w.length)) })),
  );
  return {
    spec: m.spec,
    model,
    masks: new Map(m.masks.map((x) => [x.name, new Uint8Array(bytes(x.offset, x.length))])),
    quantized: new Map(
      m.quantized.map((q) => [
        q.name,
        {
          scheme: q.scheme,
          bits: q.bits,
          shape: q.shape,
          channelAxis: q.channelAxis,
          levels: q.levels,
          codebook: new Float32Array(bytes(...q.codebook)),
          codes: new Uint16Array(bytes(...q.codes)),
          params: new Float32Array(bytes(...q.params)),
          zeroCodes: Int32Array.from(q.zeroCodes),
        },
      ]),
    ),
    activations: new Map(m.activations),
    huffman: m.huffman,
    indexBits: m.indexBits,
    history: m.history,
    trainSeconds: m.trainSeconds,
  };
}
