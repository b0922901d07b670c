import { ConfigError, createRegistry, type ParamValue, type WeightTensor } from '@squash/core';

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
}

/** Counts over all tensors passed to one `apply` call. */
export interface WeightStats {
  weightsChanged: number;
  weightsKept: number;
  weightsTotal: number;
  bits?: number;
}

export interface WeightCompressor {
  kind: 'weights';
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  /** Every problem at once, each located at `${path}.${param}`; empty when valid. */
  validate(params: Params, path: string): ConfigError[];
  /** Returns new tensors (same names and shapes); the inputs are not modified. */
  apply(tensors: WeightTensor[], params: Params): { tensors: WeightTensor[]; stats: WeightStats };
}

export interface ActivationCompressor {
  kind: 'activations';
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
  validate(params: Params, path: string): ConfigError[];
  calibrate(samples: Float32Array, params: Params): { min: number; max: number };
  /** In place: called on every hidden activation batch, so it must not allocate. */
  quantize(values: Float32Array, range: { min: number; max: number }, params: Params): void;
  bits(params: Params): number;
}

export type Compressor = WeightCompressor | ActivationCompressor;

export const compressorRegistry = createRegistry<Compressor>('compressor');
