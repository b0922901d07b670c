/**
 * Training throughput of Caffe's LeNet-5 (conv 5×5×20 → maxpool 2 → conv 5×5×50 → maxpool 2 →
 * flatten → dense 500 relu → dense 10; Adam; random data) on the wasm backend with squash's kernels
 * and on the cpu backend.
 *
 *   node packages/core/dist/kernels/bench_conv.js [--batch 128] [--steps 10] [--cpu-steps 1]
 *
 * `--cpu-steps 0` skips cpu (one cpu step takes tens of seconds). Prints samples/s per backend and,
 * for wasm, where one step's time goes by kernel.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`--${name} must be a non-negative integer, got ${process.argv[i + 1]}`);
  return value;
}

function lenet5(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 20, kernelSize: 5 }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 50, kernelSize: 5 }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 500, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

async function bench(backend: 'wasm' | 'cpu', batch: number, steps: number): Promise<void> {
  if (backend === 'wasm') await selectBackend({ prefer: 'wasm' });
  else await tf.setBackend('cpu');
  const model = lenet5();
  const x = tf.randomNormal([batch, 28, 28, 1]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as tf.Tensor1D, 10);
  const step = async () => {
    await model.trainOnBatch(x, y);
  };
  if (backend === 'wasm') await step(); // warm-up: XNNPACK operator setup, JIT
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
  }
  const mean = times.reduce((a, b) => a + b, 0) / steps,
    best = Math.min(...times);
  const rate = (ms: number) => (batch / (ms / 1000)).toFixed(1);
  console.log(
    `${backend.padEnd(4)}  ${rate(mean).padStart(8)} samples/s mean, ${rate(best)} best  ` +
      `(${mean.toFixed(1)} ms mean per step of ${batch} over ${steps} steps, backend ${tf.getBackend()})`,
  );

  if (backend === 'wasm') {
    const profile = await tf.profile(step);
    const byKernel = new Map<string, number>();
    // Entries named `…__op` are ops wrapping the kernels listed separately; skip them.
    for (const k of profile.kernels)
      if (!k.name.endsWith('__op')) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    const top = [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 8);
    console.log(`      one step by kernel: ${top.map(([name, t]) => `${name} ${t.toFixed(1)}`).join(', ')} (ms)`);
  }
  tf.dispose([x, y]);
  model.dispose();
}

const batch = flag('batch', 128);
const steps = flag('steps', 10);
const cpuSteps = flag('cpu-steps', 1);
const cpus = os.cpus();
console.log(
  `machine: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length}, node ${process.version}, tfjs ${tf.version.tfjs}`,
);
console.log(`Caffe LeNet-5, Adam, batch ${batch}, random data`);
await bench('wasm', batch, steps);
if (cpuSteps > 0) await bench('cpu', batch, cpuSteps);
