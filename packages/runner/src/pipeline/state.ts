import type * as tf from '@tensorflow/tfjs';
import type { QuantizedTensor } from '@squash/compressors';
import type { ActivationQuant } from '@squash/contract';
import type { BatchAugment, Dataset, Split } from '@squash/datasets';
import type { EpochLog, ModelSpec } from '@squash/trainer';
import type { TrainingPlace } from '../run/events.js';
import type { TrainSpec } from '../spec/types.js';

/** Everything a pipeline knows about the model being compressed, threaded through the stages. */
export interface PipelineState {
  spec: ModelSpec;
  model: tf.LayersModel;
  /** Kernel name → mask (1 = kept); held through every later training step. */
  masks: Map<string, Uint8Array>;
  /** Kernel name → its quantization; dropped when a later stage changes the kernel otherwise. */
  quantized: Map<string, QuantizedTensor>;
  /** Hidden layer name → activation quantization. */
  activations: Map<string, ActivationQuant>;
  huffman: boolean;
  /** Relative-index width of sparse layers; `auto`: per layer, the width that encodes it smallest. */
  indexBits: number | 'auto';
  /** Training done by the pipeline (fine-tuning, retraining, distillation). */
  history: EpochLog[];
  trainSeconds: number;
}

/** What stages may read: data, the baseline (teacher) and the experiment's training settings. */
export interface PipelineContext {
  data: Dataset;
  calibration: Split;
  teacher: tf.LayersModel;
  train: TrainSpec;
  seed: number;
  /** The dataset's training-batch augmentation (undefined: none); every training stage applies it. */
  augment?: BatchAugment;
  resolveModel(name: string): ModelSpec;
  /** Content-addressed states after training stages (`<cache>/states`); none: no caching. */
  stateCacheDir?: string;
  /** Identify the computation a cached state came from. */
  baselineId: string;
  models: Record<string, ModelSpec>;
  /** After each training epoch, with where it belongs (stage, round, epochs). */
  onEpoch?: (log: EpochLog, place: TrainingPlace) => void;
  /** A stage starts (not called for stages restored from the state cache). */
  onStage?: (stage: string, stageIndex: number, stages: number) => void;
  /** Awaited between training steps and between stages; throws when the run is being stopped. */
  checkStop?: () => Promise<void>;
}

export const DEFAULT_INDEX_BITS = 5;

/** The per-layer activation quantization as the artifact header records it (undefined: none). */
export function activationRecord(state: PipelineState): Record<string, ActivationQuant> | undefined {
  return state.activations.size ? Object.fromEntries(state.activations) : undefined;
}
