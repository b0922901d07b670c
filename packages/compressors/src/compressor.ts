import { type ConfigError, createRegistry, type ParamValue, type WeightTensor } from '@squash/core';
import type { QuantizedTensor } from './quantized_tensor.js';

export type Params = Record<string, ParamValue>;

/** A JSON-Schema-like description of one parameter; `validateParams` enforces it. */
export interface ParamSpec {
  type: 'number' | 'integer' | 'string' | 'boolean';
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  required?: boolean;
  description: string;
  enum?: string[];
  /**
   * The value an omitted param takes, when it is one fixed value (absent: required, or a default
   * that depends on context). Declared here once: compressors and stages read it, and trial ids
   * leave out a param written at its default, so writing it or not is one trial.
   */
  default?: ParamValue;
}

/** Counts over all tensors passed to one `apply` call. */
export interface WeightStats {
  weightsChanged: number;
  weightsKept: number;
  weightsTotal: number;
  bits?: number;
}

/** What earlier stages know about the tensors passed to `apply`, index for index. */
export interface ApplyContext {
  /** 1 = kept. Weights at 0 were pruned earlier: they stay 0 and are left out of statistics. */
  masks?: Array<Uint8Array | undefined>;
}

export interface WeightResult {
  tensors: WeightTensor[];
  stats: WeightStats;
  /** Pruning stages: which weights are kept (1) after this stage, one mask per tensor. */
  masks?: Uint8Array[];
  /** Quantization stages: the codes and codebooks behind `tensors`, one per tensor. */
  quantized?: QuantizedTensor[];
}

export interface WeightCompressor {
  kind: 'weights';
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  /** Every problem at once, each located at `${path}.${param}`; empty when valid. */
  validate(params: Params, path: string): ConfigError[];
  /** Returns new tensors (same names and shapes); the inputs are not modified. */
  apply(tensors: WeightTensor[], params: Params, ctx?: ApplyContext): WeightResult;
}

/**
 * Changes the architecture (e.g. removes whole units), so only the trainer, which knows the
 * topology, can apply it; the registry validates its parameters.
 */
export interface StructureCompressor {
  kind: 'structure';
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  validate(params: Params, path: string): ConfigError[];
}

export interface ActivationCompressor {
  kind: 'activations';
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  validate(params: Params, path: string): ConfigError[];
  /** The range from training-data batches of one layer's activations (method per params). */
  calibrate(batches: Float32Array[], params: Params): { min: number; max: number };
  /** In place: called on every hidden activation batch, so it must not allocate. */
  quantize(values: Float32Array, range: { min: number; max: number }, params: Params): void;
  bits(params: Params): number;
}

export type Compressor = WeightCompressor | ActivationCompressor | StructureCompressor;

export const compressorRegistry = createRegistry<Compressor>('compressor');
