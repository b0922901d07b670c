import type { WeightTensor } from '@squash/core';
import { ConfigError } from '@squash/core';
import { readModelFile, type ModelSource } from '@squash/trainer/specs';

/**
 * The weights a file model starts from, read again where the model is built and checked against
 * the content hash the experiment was planned with: a file edited since then would give numbers
 * that belong to another id.
 */
export function sourceWeights(source: ModelSource): WeightTensor[] {
  const read = readModelFile(source.file, { shownAs: source.path });
  if (read.sha256 !== source.sha256)
    throw new ConfigError(
      `model file ${source.path} changed since the experiment was read (content ${read.sha256.slice(0, 12)}, planned ${source.sha256.slice(0, 12)})`,
      { location: { file: source.path }, hint: 'run the experiment again: its ids follow the new content' },
    );
  return read.weights;
}
