import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@squash/backend';
import { buildModel, getWeights, resolveModelSpec } from './index.js';
import { WEIGHT_INITS } from './weight_init.js';

beforeAll(async () => {
  await selectBackend({ prefer: 'cpu' });
});

/** The largest |w| of a kernel, and the bound each init draws within (conv_1: 5·5·1 → 5·5·20). */
const maxAbs = (v: Float32Array) => v.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
const BOUNDS: Record<(typeof WEIGHT_INITS)[number], (fanIn: number, fanOut: number) => number> = {
  'glorot-uniform': (i, o) => Math.sqrt(6 / (i + o)),
  'lecun-uniform': (i) => Math.sqrt(3 / i),
  'he-uniform': (i) => Math.sqrt(6 / i),
};

describe('weight initialisation', () => {
  it.each(WEIGHT_INITS)('%s draws each kernel within its bound, filling most of it, biases zero', (init) => {
    const model = buildModel(resolveModelSpec('lenet-5'), [28, 28, 1], 1, init);
    const weights = new Map(getWeights(model).map((w) => [w.name, w.values]));
    const fans: Record<string, [number, number]> = {
      'conv_1/kernel': [25, 500],
      'conv_2/kernel': [500, 1250],
      'dense_1/kernel': [800, 500],
    };
    for (const [name, [i, o]] of Object.entries(fans)) {
      const bound = BOUNDS[init](i, o);
      const m = maxAbs(weights.get(name)!);
      expect(m, name).toBeLessThanOrEqual(bound);
      expect(m, name).toBeGreaterThan(0.95 * bound);
    }
    expect(maxAbs(weights.get('conv_1/bias')!)).toBe(0);
    model.dispose();
  });

  it('the same seed gives the same kernels; the default is glorot-uniform', () => {
    const a = getWeights(buildModel(resolveModelSpec('lenet-300-100'), [28, 28], 3, 'lecun-uniform'))[0]!.values;
    const b = getWeights(buildModel(resolveModelSpec('lenet-300-100'), [28, 28], 3, 'lecun-uniform'))[0]!.values;
    expect(Array.from(b)).toEqual(Array.from(a));
    const dflt = getWeights(buildModel(resolveModelSpec('lenet-300-100'), [28, 28], 3))[0]!.values;
    const glorot = getWeights(buildModel(resolveModelSpec('lenet-300-100'), [28, 28], 3, 'glorot-uniform'))[0]!.values;
    expect(Array.from(dflt)).toEqual(Array.from(glorot));
    expect(Array.from(dflt)).not.toEqual(Array.from(a));
  });
});
