/**
 * Activation functions and their derivatives over float32 arrays, as tfjs computes them (forward
 * formulas of tfjs-layers, gradients of tfjs-core's kernels). `z` is the input, `y` the output.
 */
export interface ActivationFn {
  forward(z: Float32Array, y: Float32Array): void;
  /** dz = dy · f'(z) in place over dy (z and y are the forward's arrays). */
  backward(z: Float32Array, y: Float32Array, dy: Float32Array): void;
  /** f' depends on the output only: the forward may then write y over z (relu). */
  fromOutput?: boolean;
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export const ACTIVATIONS: Record<string, ActivationFn> = {
  linear: {
    forward: (z, y) => y !== z && y.set(z),
    backward: () => {},
    fromOutput: true,
  },
  relu: {
    forward: (z, y) => {
      for (let i = 0; i < z.length; i++) y[i] = Math.max(z[i]!, 0);
    },
    backward: (_z, y, dy) => {
      for (let i = 0; i < dy.length; i++) if (!(y[i]! > 0)) dy[i] = 0;
    },
    fromOutput: true,
  },
  relu6: {
    forward: (z, y) => {
      for (let i = 0; i < z.length; i++) y[i] = Math.min(Math.max(z[i]!, 0), 6);
    },
    // tfjs' Relu6 gradient: dy where 0 < x ≤ 6.
    backward: (z, _y, dy) => {
      for (let i = 0; i < dy.length; i++) if (!(z[i]! > 0 && z[i]! <= 6)) dy[i] = 0;
    },
  },
  elu: {
    forward: (z, y) => {
      for (let i = 0; i < z.length; i++) y[i] = z[i]! > 0 ? z[i]! : Math.expm1(z[i]!);
    },
    backward: (_z, y, dy) => {
      for (let i = 0; i < dy.length; i++) if (!(y[i]! > 0)) dy[i] = dy[i]! * (y[i]! + 1);
    },
    fromOutput: true,
  },
  selu: {
    forward: (z, y) => {
      for (let i = 0; i < z.length; i++)
        y[i] = z[i]! > 0 ? SELU_SCALE * z[i]! : SELU_SCALE * SELU_ALPHA * Math.expm1(z[i]!);
    },
    backward: (z, _y, dy) => {
      for (let i = 0; i < dy.length; i++)
        dy[i] = dy[i]! * (z[i]! > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(z[i]!));
    },
  },
  tanh: {
    forward: (z, y) => {
      for (let i = 0; i < z.length; i++) y[i] = Math.tanh(z[i]!);
    },
    backward: (_z, y, dy) => {
      for (let i = 0; i < dy.length; i++) dy[i] = dy[i]! * (1 - y[i]! * y[i]!);
    },
    fromOutput: true,
  },
  sigmoid: {
    forward: (z, y) => {
      for (let i = 0; i < z.length; i++) y[i] = sigmoid(z[i]!);
    },
    backward: (_z, y, dy) => {
      for (let i = 0; i < dy.length; i++) dy[i] = dy[i]! * y[i]! * (1 - y[i]!);
    },
    fromOutput: true,
  },
  hardSigmoid: {
    forward: (z, y) => {
      for (let i = 0; i < z.length; i++) y[i] = Math.min(Math.max(0.2 * z[i]! + 0.5, 0), 1);
    },
    // clipByValue's gradient: dy where min ≤ x ≤ max (here x = 0.2·z + 0.5), times 0.2.
    backward: (z, _y, dy) => {
      for (let i = 0; i < dy.length; i++) {
        const u = Math.fround(Math.fround(z[i]! * 0.2) + 0.5);
        dy[i] = u >= 0 && u <= 1 ? dy[i]! * 0.2 : 0;
      }
    },
  },
  softplus: {
    forward: (z, y) => {
      for (let i = 0; i < z.length; i++) y[i] = Math.max(z[i]!, 0) + Math.log1p(Math.exp(-Math.abs(z[i]!)));
    },
    backward: (z, _y, dy) => {
      for (let i = 0; i < dy.length; i++) dy[i] = dy[i]! * sigmoid(z[i]!);
    },
  },
  softsign: {
    forward: (z, y) => {
      for (let i = 0; i < z.length; i++) y[i] = z[i]! / (1 + Math.abs(z[i]!));
    },
    backward: (z, _y, dy) => {
      for (let i = 0; i < dy.length; i++) {
        const d = 1 + Math.abs(z[i]!);
        dy[i] = dy[i]! / (d * d);
      }
    },
  },
  swish: {
    forward: (z, y) => {
      for (let i = 0; i < z.length; i++) y[i] = z[i]! * sigmoid(z[i]!);
    },
    backward: (z, _y, dy) => {
      for (let i = 0; i < dy.length; i++) {
        const s = sigmoid(z[i]!);
        dy[i] = dy[i]! * (s + z[i]! * s * (1 - s));
      }
    },
  },
};

/** Softmax over each row of `columns` values (float64 sums, max subtracted). */
export function softmaxRows(z: Float32Array, y: Float32Array, columns: number): void {
  for (let r = 0; r < z.length; r += columns) {
    let max = -Infinity;
    for (let c = 0; c < columns; c++) max = Math.max(max, z[r + c]!);
    let sum = 0;
    for (let c = 0; c < columns; c++) sum += Math.exp(z[r + c]! - max);
    for (let c = 0; c < columns; c++) y[r + c] = Math.exp(z[r + c]! - max) / sum;
  }
}
