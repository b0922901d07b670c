/**
 * Reuses the Float32Arrays of disposed tensors for the next outputs of native kernels.
 *
 * Fresh memory costs a page fault per 4 KiB on first touch: on the machines measured here that
 * was 3.4 ms of conv → 24 ms with a fresh 5.9 MB output (LeNet-5's first convolution at batch
 * 128). A training step creates and disposes the same large tensors every step, so recycling them
 * removes most of that. Only arrays this module allocated are recycled, and only when nothing
 * else can still see them: an array that was ever read out (dataSync, data, a move to another
 * backend) or registered a second time or as a view (a cpu Slice returns a subarray) is never
 * reused. Kernels using `allocate` must overwrite every element.
 */

type State = 'free' | 'live' | 'escaped';

const MIN_LENGTH = 1 << 14; // smaller arrays are cheap to allocate
const MAX_POOLED_BYTES = 256 * 1024 * 1024;

const state = new WeakMap<ArrayBuffer, State>();
const pool = new Map<number, Float32Array[]>();
let pooledBytes = 0;

/** A float32 array of `n` elements with unspecified contents, recycled when possible. */
export function allocate(n: number): Float32Array {
  if (n < MIN_LENGTH) return new Float32Array(n);
  const list = pool.get(n);
  const reused = list?.pop();
  if (reused) {
    pooledBytes -= reused.byteLength;
    return reused;
  }
  const fresh = new Float32Array(n);
  state.set(fresh.buffer, 'free');
  return fresh;
}

const whole = (v: Float32Array) => v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;

function escape(values: unknown): void {
  if (values instanceof Float32Array && state.has(values.buffer as ArrayBuffer))
    state.set(values.buffer as ArrayBuffer, 'escaped');
}

interface Hookable {
  data: { get(dataId: object): { values: unknown } | undefined; has(dataId: object): boolean };
  write(values: unknown, shape: number[], dtype: string): object;
  readSync(dataId: object): unknown;
  read(dataId: object): Promise<unknown>;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Wraps one backend instance's storage methods so disposed, unseen arrays return to the pool. */
export function recycleBuffers(backend: object): void {
  const b = backend as Hookable;
  const { write, readSync, read, disposeData } = b;
  b.write = function (values, shape, dtype) {
    if (values instanceof Float32Array) {
      const buf = values.buffer as ArrayBuffer;
      const s = state.get(buf);
      if (s !== undefined) state.set(buf, s === 'free' && whole(values) ? 'live' : 'escaped');
    }
    return write.call(this, values, shape, dtype);
  };
  b.readSync = function (dataId) {
    escape(this.data.get(dataId)?.values);
    return readSync.call(this, dataId);
  };
  b.read = function (dataId) {
    escape(this.data.get(dataId)?.values);
    return read.call(this, dataId);
  };
  b.disposeData = function (dataId, force) {
    const values = this.data.get(dataId)?.values;
    const released = disposeData.call(this, dataId, force);
    if (
      released &&
      values instanceof Float32Array &&
      !this.data.has(dataId) &&
      state.get(values.buffer as ArrayBuffer) === 'live' &&
      whole(values)
    ) {
      state.set(values.buffer as ArrayBuffer, 'free');
      if (pooledBytes + values.byteLength <= MAX_POOLED_BYTES) {
        const list = pool.get(values.length) ?? [];
        list.push(values);
        pool.set(values.length, list);
        pooledBytes += values.byteLength;
      }
    }
    return released;
  };
}

/** Pool statistics, for tests. */
export function pooled(): { arrays: number; bytes: number } {
  let arrays = 0;
  for (const l of pool.values()) arrays += l.length;
  return { arrays, bytes: pooledBytes };
}
