/**
 * The compiled training plan's memory: one slot per tensor the model computes (per-sample shape,
 * values for the largest batch, and the gradient when something upstream trains), allocated once.
 */
export interface Slot {
  name: string;
  /** Per-sample shape (the batch dimension left out). */
  shape: number[];
  /** Values per sample. */
  size: number;
  y: Float32Array;
  /** ∂loss/∂y for the current batch; null where nothing upstream trains. */
  dy: Float32Array | null;
  /** Gradients written this step (the first overwrites, the others add). */
  written: number;
  /** A reshape's view: the slot whose memory (and gradient bookkeeping) this one shares. */
  base?: Slot;
}

export function makeSlot(name: string, shape: number[], maxBatch: number, needGrad: boolean): Slot {
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    name,
    shape,
    size,
    y: new Float32Array(maxBatch * size),
    dy: needGrad ? new Float32Array(maxBatch * size) : null,
    written: 0,
  };
}

/** The first n samples' values (or gradients) of a slot. */
export const valuesOf = (s: Slot, n: number) => s.y.subarray(0, n * s.size);
export const gradOf = (s: Slot, n: number) => s.dy!.subarray(0, n * s.size);

/** Scratch memory shared by all nodes of a plan: a node's accumulated gradient is formed here first. */
export class Scratch {
  private buf = new Float32Array(0);
  get(length: number): Float32Array {
    if (this.buf.length < length) this.buf = new Float32Array(length);
    return this.buf.subarray(0, length);
  }
}

/**
 * Hands `write` the place for a node's gradient with respect to slot `s`: the slot's own gradient
 * when this is the first consumer to write it this step, else scratch that is then added to it
 * (a residual add's input is read twice).
 */
export function emitGrad(s: Slot, n: number, scratch: Scratch, write: (dst: Float32Array) => void): void {
  if (!s.dy) return;
  const dst = gradOf(s, n);
  const root = s.base ?? s;
  if (root.written++ === 0) {
    write(dst);
    return;
  }
  const tmp = scratch.get(dst.length);
  write(tmp);
  for (let i = 0; i < dst.length; i++) dst[i]! += tmp[i]!;
}

/** The same memory as `s` under another per-sample shape (Flatten, Reshape). */
export function reshapeSlot(s: Slot, name: string, shape: number[]): Slot {
  return { ...s, name, shape, base: s.base ?? s };
}
