import { describe, expect, it } from 'vitest';
import type { RunView } from '@squash/contract';
import { configIndices, configKey } from './index.js';

type R = Pick<RunView, 'sweep' | 'label' | 'params'>;
const r = (params: RunView['params'], sweep = 's', label = 'l'): R => ({ sweep, label, params });

describe('configurations', () => {
  const runs: R[] = [
    r({ bits: 4, seed: 1, cache_hit: false, baseline_run: 'a' }), // 0
    r({ seed: 2, bits: 4, cache_hit: true, baseline_run: 'b', trained_on: 'h', training_path: 'native-plan' }), // 0: seeds and record params only
    r({ bits: '4', seed: 1 }), // 1: a string is not a number
    r({ bits: 4, seed: 1, epochs: 3 }), // 2: one more param
    r({ bits: 4, seed: 1 }, 't'), // 3: another sweep
    r({ bits: 4, seed: 1 }, 's', 'm'), // 4: another label
    r({ bits: 4, seed: 3 }), // 0
    r({ bits: true, seed: 1 }), // 5
    r({ bits: 1, seed: 1 }), // 6: true is not 1
  ];
  it('groups runs that differ only by seed and run-record params', () => {
    expect([...configIndices(runs)]).toEqual([0, 0, 1, 2, 3, 4, 0, 5, 6]);
  });
  it('configKey agrees with configIndices', () => {
    const keys = runs.map(configKey);
    const ids = configIndices(runs);
    for (let i = 0; i < runs.length; i++)
      for (let j = 0; j < runs.length; j++) expect(keys[i] === keys[j], `${i} ${j}`).toBe(ids[i] === ids[j]);
  });
});
