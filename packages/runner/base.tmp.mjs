import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@squash/backend';
import { loadDataset } from '@squash/datasets';
import { buildModel, evaluate, resolveModelSpec, train } from '@squash/trainer';
const [model = 'lenet-300-100', iters = '10000', lr = '0.01', wd = '0.0005'] = process.argv.slice(2);
await selectBackend({ prefer: 'native' });
const data = await loadDataset({ name: 'mnist' });
const m = buildModel(resolveModelSpec(model), data.inputShape, 1);
if (process.env.LECUN) for (const l of m.layers) { const ws = l.getWeights(); if (!ws.length) continue; const fanIn = ws[0].shape.slice(0, -1).reduce((a, b) => a * b, 1); const lim = Math.sqrt(3 / fanIn); l.setWeights([tf.randomUniform(ws[0].shape, -lim, lim, 'float32', 7), ...ws.slice(1)]); }
const t0 = performance.now();
await train(m, data.train, {
  epochs: 1, iterations: Number(iters), batchSize: 64, learningRate: Number(lr), seed: 1,
  validationSplit: 0,
  optimizer: { optimizer: 'sgd', momentum: 0.9, weightDecay: Number(wd), schedule: 'inv', gamma: 1e-4, power: 0.75 },
  onEpoch: (l) => console.log(JSON.stringify(l)),
});
const e = evaluate(m, data.test);
console.log(model, 'err', ((1 - e.accuracy) * 100).toFixed(2), '%', ((performance.now() - t0) / 1000).toFixed(1), 's', tf.getBackend());
