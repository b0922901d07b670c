import { describe, expect, it } from 'vitest';
import {
  countNonzero,
  isLayerMetricKey,
  LayerField,
  layerMetricKey,
  layerMetricRows,
  Metric,
  parseLayerMetricKey,
} from './index.js';

describe('per-layer metric keys', () => {
  it.each([
    ['dense_1/kernel', LayerField.kept, 'layer.dense_1/kernel.kept'],
    ['conv_1/kernel', LayerField.indexBits, 'layer.conv_1/kernel.index_bits'],
    ['block.2/dense/kernel', LayerField.sizeFraction, 'layer.block.2/dense/kernel.size_fraction'],
  ] as const)('%s %s round-trips through %s', (tensor, field, key) => {
    expect(layerMetricKey(tensor, field)).toBe(key);
    expect(parseLayerMetricKey(key)).toEqual({ tensor, field });
    expect(isLayerMetricKey(key)).toBe(true);
  });

  it.each(['accuracy', 'layer.', 'layer.kept', 'layer.dense_1/kernel.nonsense', 'layers.dense_1/kernel.kept'])(
    'rejects %s',
    (key) => {
      expect(parseLayerMetricKey(key)).toBeUndefined();
      expect(isLayerMetricKey(key)).toBe(false);
    },
  );

  it('declares each key once', () => {
    const keys = Object.values(Metric);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.every((k) => /^[a-z0-9_]+$/.test(k))).toBe(true);
  });
});

describe('countNonzero', () => {
  it('counts entries that are not zero, -0 included as zero', () => {
    expect(countNonzero(new Float32Array([0, 1, -0, 2.5, 0, -3]))).toBe(3);
    expect(countNonzero(new Uint8Array([1, 1, 0]))).toBe(2);
    expect(countNonzero([])).toBe(0);
  });
});

describe('layerMetricRows', () => {
  it('groups per-tensor metrics into one row per tensor, leaving run-level ones out', () => {
    expect(
      layerMetricRows({
        accuracy: 0.98,
        [layerMetricKey('dense_1/kernel', LayerField.keptFraction)]: 0.08,
        [layerMetricKey('dense_1/kernel', LayerField.bits)]: 4,
        [layerMetricKey('block.1/conv/kernel', LayerField.bits)]: 8,
      }),
    ).toEqual([
      { tensor: 'dense_1/kernel', kept_fraction: 0.08, bits: 4 },
      { tensor: 'block.1/conv/kernel', bits: 8 },
    ]);
  });
});
