// Trains a small CNN (conv, batch norm, depthwise, separable, dense) for a few plan steps on the
// native backend and prints the sha256 of its weights before and after, for the test that the
// bits do not depend on SQUASH_NATIVE_THREADS (run it with different values and compare).
import { createHash } from 'node:crypto';
import { selectBackend } from '@squash/backend';
import { loadDataset } from '@squash/datasets';
import { buildModel, getWeights, train } from '../dist/index.js';

await selectBackend({ prefer: 'native' });
const spec = {
  name: 'bits',
  layers: [
    { type: 'conv2d', filters: 8, kernelSize: 3, strides: 2, useBias: false },
    { type: 'batchNorm' },
    { type: 'activation', activation: 'relu' },
    { type: 'depthwiseConv2d', kernelSize: 3, padding: 'same', depthMultiplier: 2 },
    { type: 'separableConv2d', filters: 12, kernelSize: 3, activation: 'relu' },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};
const data = await loadDataset({ name: 'synthetic', samples: { train: 192, test: 10 } });
const model = buildModel(spec, data.inputShape, 11);
const hash = () => {
  const h = createHash('sha256');
  for (const w of getWeights(model))
    h.update(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength));
  return h.digest('hex');
};
const before = hash();
const [log] = await train(model, data.train, { epochs: 1, batchSize: 64, learningRate: 1e-3, seed: 2 });
console.log(JSON.stringify({ before, after: hash(), path: log.path }));
