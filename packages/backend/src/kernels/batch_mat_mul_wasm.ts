import type * as tfTypes from '@tensorflow/tfjs';

type Tf = Pick<typeof tfTypes, 'getKernel' | 'unregisterKernel' | 'registerKernel'>;
type TensorInfo = tfTypes.TensorInfo;

/**
 * tfjs-backend-wasm 4.22 sends a BatchMatMul with transposeA/transposeB (every Dense layer's
 * gradient) to a scalar loop instead of XNNPACK. Transposing explicitly first and multiplying
 * untransposed runs the fast path: 1.25× (batch 32) to 1.5× (batch 128) faster training of the
 * article's MLP, measured on this machine. The result is the same product, up to float rounding.
 */
export function registerWasmBatchMatMul(tf: Tf): boolean {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose || (original as { squash?: boolean }).squash) return false;
  const perm = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];
  tf.unregisterKernel('BatchMatMul', 'wasm');
  const config = {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    squash: true,
    kernelFunc: ({ inputs, backend, attrs }: { inputs: Record<string, TensorInfo>; backend: any; attrs: any }) => {
      let { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      const temporaries: TensorInfo[] = [];
      if (attrs.transposeA) {
        a = transpose.kernelFunc({ inputs: { x: a }, backend, attrs: { perm: perm(a.shape.length) } }) as TensorInfo;
        temporaries.push(a);
      }
      if (attrs.transposeB) {
        b = transpose.kernelFunc({ inputs: { x: b }, backend, attrs: { perm: perm(b.shape.length) } }) as TensorInfo;
        temporaries.push(b);
      }
      const out = original.kernelFunc({
        inputs: { a, b },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
      for (const t of temporaries) backend.disposeData(t.dataId);
      return out;
    },
  };
  tf.registerKernel(config as unknown as tfTypes.KernelConfig);
  return true;
}
