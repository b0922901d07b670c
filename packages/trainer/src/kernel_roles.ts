import type { WeightTensor } from '@squash/core';

/**
 * The weight roles that are kernels (what compression applies to; biases and batch-norm
 * parameters stay float), with where each kernel's output channels lie when not on its last axis:
 * a depthwise kernel [kh, kw, C, M] computes output channel c·M + m, so its channels are the two
 * last axes flattened. `WeightSlot.kernel` in layer_graph.ts marks the same roles.
 */
export const KERNEL_ROLES: Readonly<Record<string, Pick<WeightTensor, 'channelAxis' | 'channelSpan'>>> = {
  kernel: {},
  depthwise_kernel: { channelAxis: -2, channelSpan: 2 },
  pointwise_kernel: {},
};

/** `conv_1/depthwise_kernel` → `depthwise_kernel`. */
export const roleOf = (weightName: string): string => weightName.slice(weightName.lastIndexOf('/') + 1);

/** Kernels only (any of KERNEL_ROLES): the tensors compression applies to (biases stay float). */
export function isKernel(t: Pick<WeightTensor, 'name'>): boolean {
  return Object.hasOwn(KERNEL_ROLES, roleOf(t.name));
}
