import { describe, expect, it } from 'vitest';
import type { ParamSpec } from '@squash/compressors';
import { decimalsOf, expandValues, MAX_AXIS_VALUES, roundTo } from './values.js';

const int: ParamSpec = { type: 'integer', description: 'bits' };

describe('value expressions', () => {
  it('counts decimals as JavaScript prints the number', () => {
    expect([0.1, 0.25, 3, 1e-7, 1.5e-7, -0.05, 100].map(decimalsOf)).toEqual([1, 2, 0, 7, 8, 2, 0]);
    expect(roundTo(0.1 + 0.2, 1)).toBe(0.3);
    expect(Object.is(roundTo(-0.0000001, 2), 0)).toBe(true);
  });

  // [written, exact values]
  const cases: Array<[string, unknown, unknown[]]> = [
    ['a scalar', 4, [4]],
    ['a list, in order', [8, 2, 4], [8, 2, 4]],
    ['an inclusive range with clean floats', { range: { start: 0.1, stop: 0.3, step: 0.1 } }, [0.1, 0.2, 0.3]],
    ['a range to 0.9', { range: { start: 0.1, stop: 0.9, step: 0.1 } }, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]],
    [
      'a range whose start is finer than its step',
      { range: { start: 0.05, stop: 0.35, step: 0.1 } },
      [0.05, 0.15, 0.25, 0.35],
    ],
    ['a range stopping short of stop', { range: { start: 0, stop: 1, step: 0.3 } }, [0, 0.3, 0.6, 0.9]],
    ['a descending range', { range: { start: 0.9, stop: 0.1, step: -0.2 } }, [0.9, 0.7, 0.5, 0.3, 0.1]],
    ['an integer range', { range: { start: 2, stop: 8, step: 2 } }, [2, 4, 6, 8]],
    ['a one-value range', { range: { start: 3, stop: 3, step: 1 } }, [3]],
    ['a range of tiny steps', { range: { start: 1e-7, stop: 3e-7, step: 1e-7 } }, [1e-7, 2e-7, 3e-7]],
    ['negative numbers', { range: { start: -0.2, stop: 0.2, step: 0.1 } }, [-0.2, -0.1, 0, 0.1, 0.2]],
    ['linspace', { linspace: { start: 0, stop: 1, num: 11 } }, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]],
    ['linspace to 6 significant digits', { linspace: { start: 0, stop: 1, num: 4 } }, [0, 0.333333, 0.666667, 1]],
    ['linspace of one value', { linspace: { start: 0.5, stop: 0.9, num: 1 } }, [0.5]],
    ['logspace (base 10)', { logspace: { start: -4, stop: -1, num: 4 } }, [0.0001, 0.001, 0.01, 0.1]],
    ['logspace base 2', { logspace: { start: 1, stop: 4, num: 4, base: 2 } }, [2, 4, 8, 16]],
    ['logspace between decades', { logspace: { start: 0, stop: 1, num: 3 } }, [1, 3.16228, 10]],
  ];
  for (const [what, written, values] of cases) {
    it(`expands ${what}`, () => {
      const e = expandValues(written as never);
      expect(e.problem).toBeUndefined();
      expect(e.values).toEqual(values);
    });
  }

  // [written, param spec, sub-path of the problem, message fragment]
  const bad: Array<[string, unknown, ParamSpec | undefined, unknown[], RegExp]> = [
    [
      'an empty range',
      { range: { start: 0.9, stop: 0.1, step: 0.1 } },
      undefined,
      ['range'],
      /range is empty: start 0.9 is above stop 0.1/,
    ],
    [
      'an empty descending range',
      { range: { start: 0.1, stop: 0.9, step: -0.1 } },
      undefined,
      ['range'],
      /start 0.1 is below stop 0.9/,
    ],
    ['a zero step', { range: { start: 1, stop: 2, step: 0 } }, undefined, ['range', 'step'], /step must not be 0/],
    [
      'too many values',
      { range: { start: 0, stop: 1, step: 0.0001 } },
      undefined,
      ['range'],
      new RegExp(`10001 values; at most ${MAX_AXIS_VALUES}`),
    ],
    [
      'a fractional linspace for an integer',
      { linspace: { start: 2, stop: 8, num: 5 } },
      int,
      ['linspace'],
      /takes integers, but this linspace gives 3.5/,
    ],
    [
      'a fractional logspace for an integer',
      { logspace: { start: 0, stop: 1, num: 3 } },
      int,
      ['logspace'],
      /gives 3.16228/,
    ],
    [
      'a fractional range for an integer (unparsed input)',
      { range: { start: 2, stop: 3, step: 0.5 } },
      int,
      ['range'],
      /takes integers, but this range gives 2.5/,
    ],
    [
      'logspace base 1',
      { logspace: { start: 0, stop: 1, num: 3, base: 1 } },
      undefined,
      ['logspace', 'base'],
      /base must not be 1/,
    ],
    ['a huge linspace', { linspace: { start: 0, stop: 1, num: 5000 } }, undefined, ['linspace', 'num'], /5000 values/],
  ];
  for (const [what, written, spec, sub, message] of bad) {
    it(`rejects ${what}`, () => {
      const e = expandValues(written as never, spec, 'bits');
      expect(e.values).toEqual([]);
      expect(e.problem?.sub).toEqual(sub);
      expect(e.problem?.message).toMatch(message);
    });
  }

  it('accepts an integer logspace that gives integers', () => {
    expect(expandValues({ logspace: { start: 1, stop: 3, num: 3, base: 2 } }, int).values).toEqual([2, 4, 8]);
  });
});
