import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fakeQuantizeInPlace } from '../format/index.js';
import { type ActivationQuant, SquashFakeQuant } from './fake_quant.js';

const run = (q: ActivationQuant, values: number[] | Float32Array, shape = [values.length]) =>
  tf.tidy(() => new SquashFakeQuant(q).apply(tf.tensor(values, shape)) as tf.Tensor);

describe('SquashFakeQuant', () => {
  it('quantizes to 2^bits levels on the recorded range, rounding half away from zero', () => {
    // scale (2 − (−1)) / 3 = 1, zero point 1: levels −1, 0, 1, 2; NaN stays NaN.
    const x = [-3, -1, -0.5, 0, 0.4, 0.5, 1.49, 2.5, 7, Number.NaN];
    const y = run({ bits: 2, min: -1, max: 2 }, x);
    expect([...y.dataSync()]).toEqual([-1, -1, -1, 0, 0, 1, 1, 2, 2, Number.NaN]);
    // A degenerate range has one level: 0 when the range holds it.
    expect([...run({ bits: 4, min: 0, max: 0 }, [-1, 0, 3]).dataSync()]).toEqual([0, 0, 0]);
  });

  it('computes exactly fakeQuantizeInPlace, for any shape, leaving its input alone', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 8 - 3;
    const values = Float32Array.from({ length: 2 * 5 * 5 * 3 }, random);
    for (const q of [
      { bits: 3, min: 0, max: 4.2 },
      { bits: 8, min: -2.7, max: 4.9 },
      { bits: 16, min: -0.001, max: 0.5 },
    ]) {
      const input = tf.tensor(values, [2, 5, 5, 3]);
      const y = new SquashFakeQuant(q).apply(input) as tf.Tensor;
      const expected = values.slice();
      fakeQuantizeInPlace(expected, q, q.bits);
      expect(y.shape).toEqual([2, 5, 5, 3]);
      expect(y.dtype).toBe('float32');
      expect(y.dataSync()).toEqual(expected);
      expect(new Set(y.dataSync()).size).toBeLessThanOrEqual(2 ** q.bits);
      expect(input.dataSync()).toEqual(values);
      tf.dispose([input, y]);
    }
  });

  it('is a registered class: a model holding it round-trips through its JSON', async () => {
    const input = tf.input({ shape: [4] });
    const quant = new SquashFakeQuant({ bits: 3, min: -1, max: 1, name: 'dense_1_fakequant' });
    const model = tf.model({ inputs: input, outputs: quant.apply(input) as tf.SymbolicTensor });
    const json = model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'];
    const saved = (json as { config: { layers: Array<{ class_name: string; config: object }> } }).config.layers[1]!;
    expect(saved.class_name).toBe('SquashFakeQuant');
    expect(saved.config).toMatchObject({ name: 'dense_1_fakequant', bits: 3, min: -1, max: 1 });
    const restored = await tf.models.modelFromJSON({ modelTopology: json });
    const x = tf.tensor([[-2, -0.3, 0.2, 0.9]]);
    expect((restored.predict(x) as tf.Tensor).dataSync()).toEqual((model.predict(x) as tf.Tensor).dataSync());
  });

  it('refuses bits or a range fakeQuantizeInPlace cannot use when made, not at its first prediction', () => {
    expect(() => new SquashFakeQuant({ bits: 0, min: 0, max: 1 })).toThrow(/bits must be an integer in \[1, 16\]/);
    expect(() => new SquashFakeQuant({ bits: 4.5, min: 0, max: 1 })).toThrow(RangeError);
    expect(() => new SquashFakeQuant({ bits: 4, min: 1, max: 0 })).toThrow(/min <= max/);
    expect(() => new SquashFakeQuant({ bits: 4, min: 0, max: Number.POSITIVE_INFINITY })).toThrow(/finite/);
  });
});
