import { describe, expect, it } from 'vitest';
import { ExpressionError, parseConstraint, shortfall } from './constraint.js';

const error = (src: string): ExpressionError => {
  try {
    parseConstraint(src);
  } catch (e) {
    if (e instanceof ExpressionError) return e;
    throw e;
  }
  throw new Error(`'${src}' parsed`);
};

describe('parseConstraint', () => {
  it('reads a bound relative to the baseline as lhs − rhs', () => {
    const c = parseConstraint('accuracy >= baseline.accuracy - 0.005');
    expect(c.op).toBe('>=');
    expect(c.diff.constant).toBeCloseTo(0.005);
    expect(c.diff.terms).toEqual([
      { metric: 'accuracy', baseline: false, coef: 1 },
      { metric: 'accuracy', baseline: true, coef: -1 },
    ]);
  });

  it('takes numbers on either side, products and quotients by numbers, parentheses', () => {
    const c = parseConstraint('30000 >= artifact_bytes');
    expect(c.diff).toEqual({ constant: 30000, terms: [{ metric: 'artifact_bytes', baseline: false, coef: -1 }] });
    const d = parseConstraint('2 * (accuracy - baseline.accuracy) / 4 > -0.01');
    expect(d.diff.constant).toBeCloseTo(0.01);
    expect(d.diff.terms.map((t) => t.coef)).toEqual([0.5, -0.5]);
  });

  it('merges like terms', () => {
    const c = parseConstraint('accuracy + accuracy >= 1.9');
    expect(c.diff.terms).toEqual([{ metric: 'accuracy', baseline: false, coef: 2 }]);
  });

  it('names the column of an unknown metric, with the nearest name', () => {
    const e = error('accuracy >= baseline.acuracy - 0.003');
    expect(e.column).toBe(22);
    expect(e.message).toMatch(/unknown metric 'acuracy'; did you mean 'accuracy'/);
    expect(error('acc >= 0.9').column).toBe(1);
  });

  it('names the column of a malformed expression', () => {
    expect(error('accuracy >=').column).toBe(12);
    expect(error('accuracy >= 0.9 0.1').column).toBe(17);
    expect(error('accuracy == 0.9').message).toMatch(/an equality cannot be searched/);
    expect(error('accuracy >= (0.9').message).toMatch(/expected '\)'/);
    expect(error('accuracy * loss >= 1').message).toMatch(/linear/);
    expect(error('accuracy >= 0.9 $').column).toBe(17);
    expect(error('baseline.accuracy >= 0.9').message).toMatch(/must name a trial metric/);
  });

  it('refuses bounds no value can meet', () => {
    expect(error('accuracy >= 1.2').message).toMatch(/can never hold: accuracy lies in \[0, 1\]/);
    expect(error('artifact_bytes <= 0').message).toMatch(/can never hold/);
    expect(error('accuracy > baseline.accuracy + 1').message).toMatch(/can never hold/);
    // At the edge it can still hold.
    expect(() => parseConstraint('accuracy >= 1')).not.toThrow();
  });
});

describe('shortfall', () => {
  it('is how far a trial misses, in the constraint’s units', () => {
    const c = parseConstraint('accuracy >= baseline.accuracy - 0.003');
    expect(shortfall(c, { accuracy: 0.98 }, { accuracy: 0.982 })).toEqual({ met: true, by: 0 });
    const miss = shortfall(c, { accuracy: 0.975 }, { accuracy: 0.982 });
    expect(miss.met).toBe(false);
    expect(miss.by).toBeCloseTo(0.004);
    expect(shortfall(c, {}, { accuracy: 0.98 })).toEqual({ met: false, by: Infinity });
    const strict = parseConstraint('artifact_bytes < 100');
    expect(shortfall(strict, { artifact_bytes: 100 }, {}).met).toBe(false);
    expect(shortfall(strict, { artifact_bytes: 120 }, {}).by).toBe(20);
  });
});
