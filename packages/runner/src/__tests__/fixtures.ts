import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'squash-runner-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A small, fast experiment on the synthetic set (tests only — never a real result). */
export const SYNTHETIC_EXPERIMENT = `name: tiny
tags: { owner: tests, ticket: 42 }
model:
  name: tiny-mlp
  layers:
    - { type: flatten }
    - { type: dense, units: 16, activation: relu }
    - { type: dense, units: 10, activation: softmax }
dataset:
  name: synthetic
  samples: { train: 600, test: 200 }
train:
  epochs: 5
  batchSize: 32
seeds: [3]
sweeps:
  - name: bits
    stages:
      - quantize-weights: { bits: [8, 2] }
  - name: prune
    stages:
      - prune-weights: { retention: [0.5] }
  - name: act
    stages:
      - quantize-activations: { bits: 4 }
`;
