import { describe, expect, it } from 'vitest';
import { createRng } from '@squash/core';
import { roundHalfAway } from './index.js';
import { roundHalfAwayInt } from './rounding.js';

describe('roundHalfAway', () => {
  it('rounds halves away from zero, symmetrically', () => {
    expect([2.5, -2.5, 1.5, -1.5, 0.5, -0.5, 0.49999999999999994, 2.4, -2.6].map(roundHalfAway)).toEqual([
      3, -3, 2, -2, 1, -1, 0, 2, -3,
    ]);
  });
  it('the fast int32 variant agrees exactly, halves and near-halves included', () => {
    const edge = [
      2.5,
      -2.5,
      0.5,
      -0.5,
      0.49999999999999994,
      -0.49999999999999994,
      1.5 - 2 ** -52,
      -(1.5 - 2 ** -52),
      0,
      -0,
      65535.5,
      -65535.5,
      2 ** 30 + 0.5,
    ];
    const rng = createRng(1);
    const xs = [
      ...edge,
      ...Array.from({ length: 20000 }, (_, i) => {
        const x = (rng.next() - 0.5) * 70000;
        return i % 2 ? Math.round(x * 2) / 2 : x; // every other one an exact half
      }),
    ];
    for (const x of xs) expect(roundHalfAwayInt(x) + 0, String(x)).toBe(roundHalfAway(x) + 0);
    expect(Object.is(roundHalfAwayInt(-0.3), 0)).toBe(true); // no −0 codes
  });
});
