// Trains the worked-example model for "bring your own model": a small functional residual CNN on MNIST,
// built, trained and saved with stock @tensorflow/tfjs only (tf.model, tf.layers.*, fit, save), so its
// model.json + weights.bin are exactly what any tfjs user would hand to Squash.
//
//   node packages/trainer/scripts/make-residual-cnn.mjs [outDir]   (default experiments/models/residual-cnn)
//
// Kernel initialisers and dropout are seeded, but model.fit shuffles with Math.random, so reruns differ
// slightly: the committed files are the artifact, this script documents how they were made.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@squash/backend';
import { loadDataset } from '@squash/datasets';

const EPOCHS = 2;
const BATCH_SIZE = 64;
const LEARNING_RATE = 2e-3;
const PW_FILTERS = 48;
const SEP_FILTERS = 64;
const outDir = resolve(process.argv[2] ?? 'experiments/models/residual-cnn');

const backend = await selectBackend();
console.log(`backend: ${backend.name} (${backend.reason})`);

// The same loader (and so the same pixel/255 scaling) Squash uses when it evaluates the saved model.
const mnist = await loadDataset({ name: 'mnist' });
const toTensors = (split) =>
  tf.tidy(() => ({
    x: tf.tensor4d(split.x, [split.count, 28, 28, 1]),
    y: tf.oneHot(tf.tensor1d(split.y, 'int32'), mnist.numClasses),
  }));
const train = toTensors(mnist.train);
const test = toTensors(mnist.test);

let nextSeed = 13;
const he = () => tf.initializers.heNormal({ seed: nextSeed++ });

const conv = (name, filters, kernelSize, strides = 1) =>
  tf.layers.conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: he() });
const bn = (name) => tf.layers.batchNormalization({ name });
const relu = (name) => tf.layers.activation({ name, activation: 'relu' });

function buildModel() {
  const input = tf.input({ shape: [28, 28, 1], name: 'image' });

  // A stride-2 stem keeps the batch-normalised activations small: on tfjs' cpu kernels (which the native
  // backend uses for everything but conv, matmul and pooling) batch norm's training ops dominate a step.
  let x = conv('stem_conv', 16, 3, 2).apply(input); // 14×14×16
  x = bn('stem_bn').apply(x);
  x = tf.layers.reLU({ name: 'stem_relu6', maxValue: 6 }).apply(x);

  const skip = x;
  x = conv('block1_conv_a', 16, 3).apply(x);
  x = bn('block1_bn_a').apply(x);
  x = relu('block1_relu_a').apply(x);
  x = conv('block1_conv_b', 16, 3).apply(x);
  x = bn('block1_bn_b').apply(x);
  x = tf.layers.add({ name: 'block1_add' }).apply([x, skip]);
  x = relu('block1_relu').apply(x);
  x = tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }).apply(x); // 7×7×16

  // Depthwise-separable block, spelled out, then the same idea as one separableConv2d layer.
  x = tf.layers
    .depthwiseConv2d({ name: 'dw_conv', kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: he() })
    .apply(x);
  x = bn('dw_bn').apply(x);
  x = relu('dw_relu').apply(x);
  x = conv('pw_conv', PW_FILTERS, 1).apply(x); // 7×7×PW_FILTERS
  x = bn('pw_bn').apply(x);
  x = relu('pw_relu').apply(x);
  x = tf.layers
    .separableConv2d({
      name: 'sep_conv',
      filters: SEP_FILTERS,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      depthwiseInitializer: he(),
      pointwiseInitializer: he(),
    })
    .apply(x); // 7×7×SEP_FILTERS

  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x);
  x = tf.layers.dropout({ name: 'dropout', rate: 0.25, seed: nextSeed++ }).apply(x);
  const output = tf.layers
    .dense({
      name: 'logits',
      units: mnist.numClasses,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed++ }),
    })
    .apply(x);
  return tf.model({ name: 'residual_cnn', inputs: input, outputs: output });
}

const model = buildModel();
model.summary();
model.compile({ optimizer: tf.train.adam(LEARNING_RATE), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const started = Date.now();
await model.fit(train.x, train.y, {
  epochs: EPOCHS,
  batchSize: BATCH_SIZE,
  validationSplit: 0.1,
  callbacks: {
    // An epoch takes minutes on 2 CPUs, so say that something is happening.
    onBatchEnd: (batch, logs) => {
      if ((batch + 1) % 200 === 0) console.log(`  batch ${batch + 1}: batch acc ${logs.acc.toFixed(4)}`);
    },
    onEpochEnd: (epoch, logs) =>
      console.log(
        `epoch ${epoch + 1}/${EPOCHS}: loss ${logs.loss.toFixed(4)} acc ${logs.acc.toFixed(4)}` +
          ` val_acc ${logs.val_acc.toFixed(4)} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      ),
  },
});
const trainSeconds = Math.round((Date.now() - started) / 1000);

const [testLoss, testAcc] = model.evaluate(test.x, test.y, { batchSize: 500 }).map((t) => t.dataSync()[0]);
const correct = Math.round(testAcc * mnist.test.count);
console.log(`test: loss ${testLoss.toFixed(4)}, accuracy ${testAcc.toFixed(4)} (${correct}/${mnist.test.count})`);

mkdirSync(outDir, { recursive: true });
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    const modelJson = {
      modelTopology: artifacts.modelTopology,
      format: 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: null,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    writeFileSync(join(outDir, 'model.json'), `${JSON.stringify(modelJson)}\n`);
    writeFileSync(join(outDir, 'weights.bin'), Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData)));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }),
);

const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
writeFileSync(
  join(outDir, 'README.md'),
  `# residual-cnn (MNIST)

A small functional residual CNN created, trained and saved with stock TensorFlow.js
${tf.version.tfjs} (\`tf.model\`, \`tf.layers.*\`, \`model.fit\`, \`model.save\`), for Squash's
"bring your own model" example. \`model.json\` is the standard tfjs layers format; the weights are
one shard, \`weights.bin\`.

- Made by: \`node packages/trainer/scripts/make-residual-cnn.mjs ${relative(process.cwd(), outDir)}\`
  (or \`npm run make:residual-cnn\`)
- Backend: ${backend.name}
- Data: MNIST from \`@squash/datasets\` (60000 train / 10000 test), pixels scaled to [0, 1] (value / 255),
  input shape [28, 28, 1]
- Training: Adam (lr ${LEARNING_RATE}), categorical cross-entropy, batch ${BATCH_SIZE}, ${EPOCHS} epochs,
  validationSplit 0.1 (trained on the first 54000 images), ${trainSeconds} s
- Test accuracy (\`model.evaluate\` on the 10000 test images): ${testAcc.toFixed(4)} (${correct}/10000),
  loss ${testLoss.toFixed(4)}
- Parameters: ${model.countParams()} (${layers.length} layers)

Kernel initialisers and dropout are seeded, but \`model.fit\` shuffles with \`Math.random\`, so a rerun gives
slightly different weights: these files are the artifact, the script records how they were made.

Layers: ${layers.map((l) => `\`${l.name}\``).join(', ')}.
`,
);
console.log(`wrote ${relative(process.cwd(), outDir)}/{model.json,weights.bin,README.md}`);
