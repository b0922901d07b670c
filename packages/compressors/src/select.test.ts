import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { selectKth } from './select.js';

describe('selectKth', () => {
  const rng = createRng(99);
  const cases: Record<string, () => Float32Array> = {
    random: () => new Float32Array(1 + rng.int(3000)).map(() => rng.next()),
    sorted: () => new Float32Array(1 + rng.int(3000)).map((_, i) => i),
    reversed: () => new Float32Array(1 + rng.int(3000)).map((_, i) => -i),
    equal: () => new Float32Array(1 + rng.int(3000)).fill(0.5),
    twoValued: () => new Float32Array(1 + rng.int(3000)).map(() => rng.int(2)),
    organPipe: () => new Float32Array(1 + rng.int(3000)).map((_, i, a) => Math.min(i, a.length - i)),
  };

  it.each(Object.keys(cases))('agrees with a full sort on %s input, with and without fallback', (name) => {
    for (let trial = 0; trial < 20; trial++) {
      const a = cases[name]();
      const sorted = a.slice().sort();
      const k = rng.int(a.length);
      for (const budget of [undefined, 0, 1, 3]) {
        const copy = a.slice();
        expect(selectKth(copy, k, budget)).toBe(sorted[k]);
        expect(copy.slice().sort()).toEqual(sorted); // a permutation of the input
      }
    }
  });

  it('rejects k outside the array', () => {
    expect(() => selectKth(new Float32Array(3), 3)).toThrow(RangeError);
    expect(() => selectKth(new Float32Array(0), 0)).toThrow(RangeError);
  });
});
