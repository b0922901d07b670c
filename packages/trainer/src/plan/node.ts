import type { Addon } from '@squash/backend';
import type { Scratch, Slot } from './slots.js';

/** One weight as a layer reads it in the plan: the values its forward uses and where its gradient goes. */
export interface Param {
  /** `<layer>/<role>`, as everywhere in Squash. */
  name: string;
  shape: number[];
  value: Float32Array;
  /** null: frozen (not trained), no gradient is formed. */
  grad: Float32Array | null;
}

/** What every node's forward and backward pass can reach. */
export interface PlanContext {
  addon: Addon;
  scratch: Scratch;
  /** Training semantics (batch statistics, dropout on) or inference. */
  training: boolean;
  seed: number;
  /** The optimizer step being taken (1-based): dropout's masks follow it. */
  step: number;
}

/**
 * One layer of the compiled plan. `forward` reads its input slots' first n samples and writes
 * `out`; `backward` reads `out`'s gradient and writes its parameters' gradients and (through
 * `emitGrad`) its inputs'. `afterStep` runs once the optimizer has stepped (batch norm's moving
 * averages).
 */
export interface PlanNode {
  name: string;
  out: Slot;
  forward(n: number, ctx: PlanContext): void;
  backward(n: number, ctx: PlanContext): void;
  afterStep?(): void;
}
