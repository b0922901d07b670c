/**
 * `dataset.augment`: training-time moves of each image in a training batch, drawn from (seed,
 * epoch, sample index) alone, so the same seed gives the same batches whatever the batch size or
 * process, and another epoch sees other moves. Only the trainer's batch buffer (a copy) is
 * changed: the splits themselves, and so the test, validation and calibration data, never are.
 */
import { DatasetError } from '@squash/core';
import { channelsOf, type Normalization } from './normalize.js';

export interface AugmentSpec {
  /** Pad every side by `padding` with black, then crop back to the size at a random offset (CIFAR's standard). */
  crop?: { padding: number };
  /** Mirror left–right with probability ½. */
  flip?: boolean;
  /** Move by up to `shift` pixels each way, the edge pixels repeated into the gap. */
  shift?: number;
}

/** The spec as ids hash it: moves that do nothing left out; undefined when none is left. */
export function canonicalAugment(spec: AugmentSpec | undefined): AugmentSpec | undefined {
  if (!spec) return undefined;
  const out: AugmentSpec = {
    ...(spec.crop && spec.crop.padding > 0 ? { crop: { padding: spec.crop.padding } } : {}),
    ...(spec.flip ? { flip: true } : {}),
    ...(spec.shift ? { shift: spec.shift } : {}),
  };
  return Object.keys(out).length ? out : undefined;
}

/** Which training batch this is, and where its samples come from in the training split. */
export interface BatchPlace {
  seed: number;
  /** 1-based. */
  epoch: number;
  /** 1-based, over the whole training run. */
  step: number;
  /** Training-split index of each sample in the batch, in batch order. */
  indices: ArrayLike<number>;
}

/** Changes the first `n` samples of a training batch in place. */
export type BatchAugment = (batch: Float32Array, n: number, at: BatchPlace) => void;

/** Height, width and channels of one image. */
export interface ImageLayout {
  h: number;
  w: number;
  c: number;
}

/** [h, w] or [h, w, c]; undefined for a flat vector or higher ranks (no rows to move). */
export function imageLayout(inputShape: readonly number[]): ImageLayout | undefined {
  if (inputShape.length === 2) return { h: inputShape[0]!, w: inputShape[1]!, c: 1 };
  if (inputShape.length === 3) return { h: inputShape[0]!, w: inputShape[1]!, c: inputShape[2]! };
  return undefined;
}

/** One sample's moves: crop offset (content moves up/left by it), mirror, shift (content moves down/right). */
export interface SampleMoves {
  cropY: number;
  cropX: number;
  flip: boolean;
  shiftY: number;
  shiftX: number;
}

const mix = (h: number, v: number): number => {
  h = Math.imul(h ^ v, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/** A uniform 32-bit value from (seed, epoch, index, draw): a hash, so any sample's moves are found directly. */
function draw(seed: number, epoch: number, index: number, k: number): number {
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return mix(mix(mix(mix(mix(0x2545f491, seed >>> 0), hi), epoch >>> 0), index >>> 0), k);
}

/** Uniform in [−r, r]. */
const offset = (u: number, r: number) => (r > 0 ? (u % (2 * r + 1)) - r : 0);

/** The moves of sample `index` in `epoch`; each move has its own draw, so enabling one leaves the others' as they were. */
export function sampleMoves(spec: AugmentSpec, seed: number, epoch: number, index: number): SampleMoves {
  const p = spec.crop?.padding ?? 0;
  const s = spec.shift ?? 0;
  return {
    cropY: offset(draw(seed, epoch, index, 0), p),
    cropX: offset(draw(seed, epoch, index, 1), p),
    flip: spec.flip === true && (draw(seed, epoch, index, 2) & 1) === 1,
    shiftY: offset(draw(seed, epoch, index, 3), s),
    shiftX: offset(draw(seed, epoch, index, 4), s),
  };
}

/**
 * dst = shift(flip(crop(src))), one pass: out(y, x) reads the cropped, mirrored image at the
 * shift's clamped source (edges repeated), which reads src at the crop's offset or `fill` (per
 * channel) outside it. `src` and `dst` must not overlap.
 */
export function moveSample(
  src: Float32Array,
  dst: Float32Array,
  { h, w, c }: ImageLayout,
  m: SampleMoves,
  fill: ArrayLike<number>,
): void {
  for (let y = 0; y < h; y++) {
    const y1 = Math.min(h - 1, Math.max(0, y - m.shiftY));
    const ys = y1 + m.cropY;
    const row = y * w * c;
    if (ys < 0 || ys >= h) {
      for (let i = 0; i < w * c; i += c) for (let k = 0; k < c; k++) dst[row + i + k] = fill[k]!;
      continue;
    }
    for (let x = 0; x < w; x++) {
      const x1 = Math.min(w - 1, Math.max(0, x - m.shiftX));
      const xs = (m.flip ? w - 1 - x1 : x1) + m.cropX;
      const o = row + x * c;
      if (xs < 0 || xs >= w) for (let k = 0; k < c; k++) dst[o + k] = fill[k]!;
      else {
        const s = (ys * w + xs) * c;
        for (let k = 0; k < c; k++) dst[o + k] = src[s + k]!;
      }
    }
  }
}

/**
 * Black after normalization, per channel: what a pixel of 0 becomes, so padding looks like the
 * zero padding of the raw image (as torchvision pads before it normalizes).
 */
export function blackOf(normalization: Normalization | undefined, channels: number): Float32Array {
  if (!normalization) return new Float32Array(channels);
  return Float32Array.from(normalization.mean, (m, k) => -m / normalization.std[k]!);
}

/**
 * The trainer's batch hook for `spec` on images of `inputShape`; undefined when `spec` moves
 * nothing. Data that is not an image ([h, w] or [h, w, c]) cannot be moved: a DatasetError.
 */
export function batchAugmenter(
  spec: AugmentSpec | undefined,
  inputShape: readonly number[],
  normalization?: Normalization,
): BatchAugment | undefined {
  const moves = canonicalAugment(spec);
  if (!moves) return undefined;
  const layout = imageLayout(inputShape);
  if (!layout) {
    throw new DatasetError(
      `dataset.augment moves images, but the samples have shape [${inputShape.join(', ')}]; it needs [height, width] or [height, width, channels]`,
      { location: { path: 'dataset.augment' }, hint: 'drop augment, or use data stored as images' },
    );
  }
  const fill = blackOf(normalization, channelsOf(inputShape));
  const per = layout.h * layout.w * layout.c;
  const scratch = new Float32Array(per);
  return (batch, n, at) => {
    for (let i = 0; i < n; i++) {
      const m = sampleMoves(moves, at.seed, at.epoch, at.indices[i]!);
      if (!m.flip && !m.cropX && !m.cropY && !m.shiftX && !m.shiftY) continue;
      const sample = batch.subarray(i * per, (i + 1) * per);
      scratch.set(sample);
      moveSample(scratch, sample, layout, m, fill);
    }
  };
}
