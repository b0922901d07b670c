/**
 * How fresh kernels are drawn (biases start at zero). Pure: the experiment schema reads it.
 * - glorot-uniform: U(±√(6/(fan_in + fan_out))), Keras' and tfjs' default;
 * - lecun-uniform: U(±√(3/fan_in)), Caffe's `xavier` filler (what its LeNet prototxts use);
 * - he-uniform: U(±√(6/fan_in)), He et al. 2015, for ReLU networks.
 * For a conv kernel fan_in = kh·kw·in and fan_out = kh·kw·out.
 */
export const WEIGHT_INITS = ['glorot-uniform', 'lecun-uniform', 'he-uniform'] as const;
export type WeightInit = (typeof WEIGHT_INITS)[number];
export const DEFAULT_WEIGHT_INIT: WeightInit = 'glorot-uniform';
