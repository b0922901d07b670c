import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend.js';
import { createRng } from '@squash/core';

function random(shape: number[], seed: number): Float32Array {
  const r = createRng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal());
}

async function matMulOn(
  backend: string,
  a: Float32Array,
  sa: number[],
  b: Float32Array,
  sb: number[],
  ta: boolean,
  tb: boolean,
) {
  await tf.setBackend(backend);
  return tf.tidy(() => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb).dataSync().slice());
}

describe('wasm BatchMatMul with explicit transposes', () => {
  it('is registered when wasm is selected', async () => {
    const choice = await selectBackend({ prefer: 'wasm' });
    expect(choice.name).toBe('wasm');
    expect((tf.getKernel('BatchMatMul', 'wasm') as unknown as { squash?: boolean }).squash).toBe(true);
  });

  // Odd sizes on purpose: 1, primes, and batch dims, in every transpose combination.
  const cases: Array<[number, number, number, number]> = [
    [1, 1, 1, 1],
    [1, 7, 13, 5],
    [3, 17, 1, 9],
    [2, 33, 65, 31],
    [1, 128, 784, 32],
  ];
  for (const [batch, m, k, n] of cases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        it(`matches cpu for ${batch}×${m}×${k}×${n} ta=${ta} tb=${tb}`, async () => {
          await selectBackend({ prefer: 'wasm' });
          const sa = ta ? [batch, k, m] : [batch, m, k];
          const sb = tb ? [batch, n, k] : [batch, k, n];
          const a = random(sa, m * 31 + k),
            b = random(sb, n * 17 + k);
          const ref = await matMulOn('cpu', a, sa, b, sb, ta, tb);
          const got = await matMulOn('wasm', a, sa, b, sb, ta, tb);
          expect(got.length).toBe(batch * m * n);
          for (let i = 0; i < ref.length; i++)
            expect(Math.abs(got[i]! - ref[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref[i]!)) * Math.sqrt(k));
        });
      }
    }
  }

  it('gives the same dense-layer gradients as cpu', async () => {
    const x = random([16, 23], 1),
      w = random([23, 11], 2);
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const f = (xv: tf.Tensor, wv: tf.Tensor) => tf.sum(tf.relu(tf.matMul(xv, wv)));
        const [gx, gw] = tf.grads(f)([tf.tensor(x, [16, 23]), tf.tensor(w, [23, 11])]);
        return [gx!.dataSync().slice(), gw!.dataSync().slice()];
      });
    };
    const [cx, cw] = await grads('cpu');
    const [wx, ww] = await grads('wasm');
    for (let i = 0; i < cx!.length; i++) expect(wx![i]).toBeCloseTo(cx![i]!, 4);
    for (let i = 0; i < cw!.length; i++) expect(ww![i]).toBeCloseTo(cw![i]!, 4);
  });
});
