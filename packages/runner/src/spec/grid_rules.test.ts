import { describe, expect, it } from 'vitest';
import { matchesLayer } from './grid_rules.js';

describe('matchesLayer: `*` is any run of characters, everything else literal', () => {
  it.each([
    ['dense_1', 'dense_1', true],
    ['dense_1', 'dense_10', false],
    ['dense_*', 'dense_10', true],
    ['*', '', true],
    ['*_1', 'conv2d_1', true],
    ['*_1', 'conv2d_11', false],
    ['d*n*e_1', 'dense_1', true],
    ['d*x*e_1', 'dense_1', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['dense.1', 'dense_1', false],
    ['(dense)+', '(dense)+', true],
    ['[d]ense', 'dense', false],
  ])('%s ~ %s: %s', (pattern, layer, want) => expect(matchesLayer(pattern, layer)).toBe(want));

  it('takes a pattern of any length (no RegExp to overflow)', () => {
    const long = `${'a*'.repeat(50_000)}b`;
    expect(matchesLayer(long, `${'a'.repeat(50_000)}b`)).toBe(true);
    expect(matchesLayer(long, 'ab')).toBe(false);
  });
});
