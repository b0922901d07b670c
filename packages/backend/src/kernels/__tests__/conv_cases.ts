import * as tf from '@tensorflow/tfjs';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
export interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'ceil' | 'floor' | 'round';
}

// Odd sizes on purpose: 1, primes, batch 1 and > 1, strides 1 and 2, every padding form, windows
// that leave rows/columns of x unused (13 rows, 3-row filter, stride 2), and LeNet-5's two layers.
export const CONV_CASES: ConvCase[] = [
  { x: [1, 1, 1, 1], filter: [1, 1, 1, 1], strides: 1, pad: 'valid' },
  { x: [1, 5, 5, 1], filter: [3, 3, 1, 1], strides: 1, pad: 'same' },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'same' },
  { x: [3, 13, 11, 2], filter: [3, 4, 2, 7], strides: 2, pad: 'valid' },
  { x: [3, 13, 11, 2], filter: [3, 4, 2, 7], strides: 2, pad: 'same' },
  { x: [1, 11, 13, 5], filter: [5, 5, 5, 3], strides: 1, pad: 'valid' },
  { x: [4, 9, 9, 7], filter: [2, 2, 7, 2], strides: [2, 1], pad: 'same' },
  { x: [2, 8, 8, 4], filter: [3, 3, 4, 6], strides: 1, pad: 1 },
  { x: [2, 7, 6, 3], filter: [3, 3, 3, 4], strides: 1, pad: 3 },
  {
    x: [2, 10, 10, 3],
    filter: [3, 3, 3, 4],
    strides: 2,
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  },
  { x: [2, 10, 10, 2], filter: [3, 3, 2, 3], strides: 2, pad: 0, dimRoundingMode: 'ceil' },
  { x: [5, 17, 17, 1], filter: [5, 5, 1, 20], strides: 1, pad: 'valid' },
  { x: [8, 28, 28, 1], filter: [5, 5, 1, 20], strides: 1, pad: 'valid' },
  { x: [8, 12, 12, 20], filter: [5, 5, 20, 50], strides: 1, pad: 'valid' },
];

export function describeCase(c: ConvCase): string {
  return `x ${c.x.join('×')}, filter ${c.filter.join('×')}, strides ${c.strides}, pad ${JSON.stringify(c.pad)}${c.dimRoundingMode ? ` ${c.dimRoundingMode}` : ''}`;
}

/** dy's shape: the forward conv's output shape (computed on cpu). */
export function outShape(c: ConvCase): number[] {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad, c.dimRoundingMode);
  return info.outShape;
}
