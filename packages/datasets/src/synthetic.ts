/**
 * The `synthetic` builder: a tiny generated problem so tests of trainers and compressors run in
 * seconds without touching MNIST. Shaped like MNIST (28×28, 10 classes) so the same models fit.
 */
import { createRng, DatasetError, type Rng } from '@squash/core';
import type { Dataset, DatasetBuilder, DatasetSpec, Split } from './dataset.js';

const SHAPE = [28, 28];
const PIXELS = 28 * 28;
const CLASSES = 10;
// Large enough that single pixels are unreliable, small enough that the whole image separates
// the classes easily: a nearest-prototype rule is near perfect, so models learn it in few steps.
const NOISE_SD = 0.35;
const DEFAULTS = { train: 2000, test: 500 };

export function makeSynthetic(spec: Pick<DatasetSpec, 'seed' | 'samples'> = {}): Dataset {
  const seed = spec.seed ?? 0;
  const counts = { train: sampleCount(spec, 'train'), test: sampleCount(spec, 'test') };
  const root = createRng(seed);
  // Separate streams, so changing one split's size leaves the other split's data unchanged.
  const protoRng = root.fork(),
    trainRng = root.fork(),
    testRng = root.fork();
  const prototypes = Array.from({ length: CLASSES }, () =>
    Float32Array.from({ length: PIXELS }, () => protoRng.next()),
  );
  return {
    name: 'synthetic',
    inputShape: [...SHAPE],
    numClasses: CLASSES,
    train: makeSplit(prototypes, counts.train, trainRng),
    test: makeSplit(prototypes, counts.test, testRng),
    source: `synthetic (seed ${seed}, for fast tests only)`,
  };
}

function makeSplit(prototypes: Float32Array[], count: number, rng: Rng): Split {
  // Round-robin then shuffle: classes stay balanced even for tiny splits or `limits`.
  const y = rng.shuffle(Uint8Array.from({ length: count }, (_, i) => i % CLASSES));
  const x = new Float32Array(count * PIXELS);
  for (let i = 0; i < count; i++) {
    const proto = prototypes[y[i]];
    for (let p = 0; p < PIXELS; p++) {
      x[i * PIXELS + p] = Math.min(1, Math.max(0, proto[p] + NOISE_SD * rng.normal()));
    }
  }
  return { x, y, count };
}

function sampleCount(spec: Pick<DatasetSpec, 'samples'>, which: 'train' | 'test'): number {
  const n = spec.samples?.[which] ?? DEFAULTS[which];
  if (!Number.isInteger(n) || n < 1) {
    const path = `dataset.samples.${which}`;
    throw new DatasetError(`${path} must be a positive integer, got ${n}`, { location: { path } });
  }
  return n;
}

export const syntheticBuilder: DatasetBuilder = {
  description:
    'FOR FAST TESTS ONLY: deterministic 10-class 28×28 noisy-prototype data (seed, samples.train/test; default 2000/500)',
  identity: 'spec',
  async load(spec) {
    return makeSynthetic(spec);
  },
};
