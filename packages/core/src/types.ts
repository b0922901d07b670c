/** Named weight tensors of a model, row-major, as stored by tfjs (`dense_1/kernel`, …). */
export interface WeightTensor {
  name: string;
  shape: number[];
  values: Float32Array;
  /**
   * Where the output channels lie, for per-channel compression: `channelSpan` axes from
   * `channelAxis` on, flattened, index the channel. Default: the last axis (dense [in, out], conv
   * [kh, kw, in, out]). A depthwise kernel [kh, kw, C, M] has axis −2, span 2: its C·M output
   * channels, channel c·M + m.
   */
  channelAxis?: number;
  channelSpan?: number;
}

export type WeightMap = Record<string, WeightTensor>;

/** One scalar measurement of a run. `step` is set for curves (epoch, iteration). */
export interface MetricRecord {
  key: string;
  value: number;
  step?: number;
}

export type ParamValue = number | string | boolean;
