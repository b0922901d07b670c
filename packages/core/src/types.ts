/** Named weight tensors of a model, row-major, as stored by tfjs (`dense_1/kernel`, …). */
export interface WeightTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

export type WeightMap = Record<string, WeightTensor>;

/** One scalar measurement of a run. `step` is set for curves (epoch, iteration). */
export interface MetricRecord {
  key: string;
  value: number;
  step?: number;
}

export type ParamValue = number | string | boolean;
