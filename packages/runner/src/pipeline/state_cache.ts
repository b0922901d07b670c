import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QuantizedTensor } from '@squash/compressors';
import type { ActivationQuant } from '@squash/contract';
import { fileError, sha256Hex, type WeightTensor } from '@squash/core';
import { buildModel, getWeights, setWeights } from '@squash/trainer';
import type { PipelineState } from './state.js';

/**
 * Content-addressed cache of pipeline states after training stages (`<cacheDir>/states/<key>/`):
 * trials that share a trained prefix — Deep Compression's prune → retrain before 5- or 6-bit
 * k-means — train it once, across trials, sweeps and experiments. The key hashes the baseline
 * and the stages so far, so a state is only ever reused for exactly the same computation.
 *
 * An entry is written whole (a temp dir renamed into place) and carries the size and SHA-256 of
 * its `state.bin`: an entry that does not match (a damaged disk, a hand edit, an older format) is
 * removed and computed again, never loaded into a model.
 */

/**
 * Bumped when the manifest changes shape or meaning; an entry of another format is computed again.
 * 3: states start from the baseline with its batch norms folded; quantized tensors may have a channelSpan.
 */
const FORMAT = 3;

interface Manifest {
  format: number;
  /** Size and SHA-256 (hex) of `state.bin`, checked before anything is read from it. */
  binBytes: number;
  binSha256: string;
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
  const weights = getWeights(state.model).map((w: WeightTensor) => {
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
    ...(q.channelSpan ? { channelSpan: q.channelSpan } : {}),
    levels: q.levels,
    codebook: blob.add(q.codebook),
    codes: blob.add(q.codes),
    params: blob.add(q.params),
    zeroCodes: Array.from(q.zeroCodes),
  }));
  const bin = blob.bytes();
  const manifest: Manifest = {
    format: FORMAT,
    binBytes: bin.length,
    binSha256: sha256Hex(bin),
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
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'state.bin'), bin);
    writeFileSync(join(tmp, 'state.json'), JSON.stringify(manifest));
  } catch (e) {
    removeQuietly(tmp);
    throw fileError(e, dir, 'caching a pipeline state');
  }
  try {
    renameSync(tmp, dir);
  } catch {
    removeQuietly(tmp); // another process saved the same state first
  }
}

/** Cleanup on a failure path: the failure being reported matters, not this one (a path that cannot exist). */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {}
}

type Checked = { manifest: Manifest; bin: Buffer } | { problem: string };

/** Reads an entry and checks it against its own record: sizes, checksum, every section in bounds. */
function readEntry(dir: string): Checked {
  let manifest: Manifest;
  let bin: Buffer;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Manifest;
    bin = readFileSync(join(dir, 'state.bin'));
  } catch (e) {
    return { problem: `unreadable (${(e as Error).message.split('\n')[0]})` };
  }
  if (typeof manifest !== 'object' || manifest === null || manifest.format !== FORMAT)
    return { problem: `not of this Squash's format (${FORMAT})` };
  if (bin.length !== manifest.binBytes)
    return { problem: `state.bin has ${bin.length} bytes, its manifest says ${manifest.binBytes}` };
  if (sha256Hex(bin) !== manifest.binSha256) return { problem: 'state.bin does not match its checksum' };
  const inBounds = ([offset, length]: readonly number[]) =>
    Number.isInteger(offset) &&
    Number.isInteger(length) &&
    offset! >= 0 &&
    length! >= 0 &&
    offset! + length! <= bin.length;
  try {
    const sections = [
      ...manifest.weights.map((w) => [w.offset, w.length]),
      ...manifest.masks.map((m) => [m.offset, m.length]),
      ...manifest.quantized.flatMap((q) => [q.codebook, q.codes, q.params]),
    ];
    if (!sections.every(inBounds)) return { problem: 'a section lies outside state.bin' };
  } catch {
    return { problem: 'state.json lacks a section list' };
  }
  return { manifest, bin };
}

/**
 * What is wrong with a cached entry (`squash doctor`), or undefined when it is whole. An entry
 * still being written is a temp dir beside it, so a directory without `state.json` is damaged.
 */
export function checkState(dir: string): string | undefined {
  const r = readEntry(dir);
  return 'problem' in r ? r.problem : undefined;
}

/** Removes a damaged entry so it is computed (and cached) again. */
function discard(dir: string): undefined {
  rmSync(dir, { recursive: true, force: true });
  return undefined;
}

/**
 * The cached state, or undefined (none, or a damaged one, which is removed). `seed` only names
 * the rebuilt model's initializers (all overwritten).
 */
export function loadState(dir: string): PipelineState | undefined {
  if (!existsSync(dir)) return undefined;
  const entry = readEntry(dir);
  if ('problem' in entry) return discard(dir);
  const { manifest: m, bin } = entry;
  const bytes = (offset: number, length: number) =>
    bin.buffer.slice(bin.byteOffset + offset, bin.byteOffset + offset + length);
  let model: PipelineState['model'] | undefined;
  try {
    model = buildModel(m.spec, m.inputShape, 0);
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
            ...(q.channelSpan ? { channelSpan: q.channelSpan } : {}),
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
  } catch {
    // A manifest that passed its checksum but does not fit the model (shapes, a typed array's
    // alignment): written by a Squash with another layout. Computed again, like damage.
    model?.dispose();
    return discard(dir);
  }
}
