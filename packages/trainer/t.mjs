import { selectBackend } from '@squash/backend';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '@squash/datasets';
import { buildModel, train } from './dist/index.js';
const which = process.argv[2];
await selectBackend({ prefer: which });
const conv = (name, filters, k, s = 1) => ({ type: 'conv2d', name, filters, kernelSize: k, strides: s, padding: 'same', useBias: false });
const variants = {
  full: [conv('stem_conv', 16, 3, 2), { type: 'batchNorm', name: 'stem_bn' }, { type: 'activation', activation: 'relu6', name: 'stem_relu6' },
  conv('a', 16, 3), { type: 'batchNorm' }, { type: 'activation', activation: 'relu' }, conv('b', 16, 3), { type: 'batchNorm', name: 'bnb' },
  { type: 'add', name: 'add', inputs: ['bnb', 'stem_relu6'] }, { type: 'activation', activation: 'relu' }, { type: 'maxPool2d', poolSize: 2 },
  { type: 'depthwiseConv2d', kernelSize: 3, padding: 'same', useBias: false }, { type: 'batchNorm' }, { type: 'activation', activation: 'relu' },
  conv('pw', 48, 1), { type: 'batchNorm' }, { type: 'activation', activation: 'relu' },
  { type: 'separableConv2d', filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' },
  { type: 'globalAvgPool2d' }, { type: 'dropout', rate: 0.25 }, { type: 'dense', units: 10, activation: 'softmax' }],
  nobn: [conv('stem_conv', 16, 3, 2), { type: 'activation', activation: 'relu6', name: 'stem_relu6' },
  conv('a', 16, 3), { type: 'activation', activation: 'relu' }, conv('b', 16, 3, 1), 
  { type: 'add', name: 'add', inputs: ['b', 'stem_relu6'] }, { type: 'activation', activation: 'relu' }, { type: 'maxPool2d', poolSize: 2 },
  { type: 'depthwiseConv2d', kernelSize: 3, padding: 'same', useBias: false }, { type: 'activation', activation: 'relu' },
  conv('pw', 48, 1), { type: 'activation', activation: 'relu' },
  { type: 'separableConv2d', filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' },
  { type: 'globalAvgPool2d' }, { type: 'dense', units: 10, activation: 'softmax' }],
};
const d = await loadDataset({ name: 'mnist', limits: { train: 1280, test: 100 } });
for (const [k, layers] of Object.entries(variants)) {
  const m = buildModel({ name: 'r', inputShape: [28, 28, 1], layers }, d.inputShape, 1);
  const logs = await train(m, d.train, { epochs: 1, batchSize: 64, learningRate: 0.001, seed: 1 });
  console.log(which, k, logs[0].samplesPerSecond.toFixed(0), 'samples/s');
}
