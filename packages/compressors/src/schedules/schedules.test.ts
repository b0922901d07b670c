import { describe, expect, it } from 'vitest';
import { ConfigError, SpecError } from '@squash/core';
import {
  IterativeRetention,
  PolynomialDecay,
  scheduleFromJSON,
  validateSchedule,
  type PruningSchedule,
} from './index.js';

describe('PolynomialDecay (Zhu & Gupta 2017)', () => {
  // s_i = 0, s_f = 0.9, t0 = 0, n·Δt = 100, Δt = 10: r_t = 0.1 + 0.9·(1 − t/100)^3
  const s = new PolynomialDecay({
    initialRetention: 1,
    finalRetention: 0.1,
    beginStep: 0,
    endStep: 100,
    frequency: 10,
  });

  it('matches the formula at hand-computed steps', () => {
    expect(s.at(0)).toEqual({ active: true, retention: 1 });
    expect(s.at(10).retention).toBeCloseTo(0.1 + 0.9 * 0.729, 12); // 0.7561
    expect(s.at(50).retention).toBeCloseTo(0.2125, 12);
    expect(s.at(90).retention).toBeCloseTo(0.1009, 12);
    expect(s.at(100)).toEqual({ active: true, retention: 0.1 });
    expect(s.at(110)).toEqual({ active: false, retention: 0.1 });
    expect(s.at(5)).toEqual({ active: false, retention: expect.closeTo(0.8716375, 12) as number });
  });

  it('is active exactly at t0, t0 + Δt, …, t0 + n·Δt, and reports r_i before t0', () => {
    const late = new PolynomialDecay({
      initialRetention: 0.8,
      finalRetention: 0.2,
      beginStep: 20,
      endStep: 50,
      frequency: 10,
      exponent: 1,
    });
    const active = Array.from({ length: 70 }, (_, t) => t).filter((t) => late.at(t).active);
    expect(active).toEqual([20, 30, 40, 50]);
    expect(late.at(0)).toEqual({ active: false, retention: 0.8 });
    expect(late.at(35).retention).toBeCloseTo(0.5, 12); // linear with exponent 1
  });

  it('validates ranges and the rules between parameters, each located', () => {
    const base = { initialRetention: 1, finalRetention: 0.1, beginStep: 0, endStep: 100, frequency: 10 };
    const msg = (c: Record<string, unknown>) =>
      PolynomialDecay.validate(c, 'sched').map((e) => [e.location?.path, e.message]);
    expect(msg(base)).toEqual([]);
    expect(msg({ ...base, finalRetention: 0 })).toEqual([
      ['sched.config.finalRetention', 'finalRetention must be in (0, 1], got 0'],
    ]);
    expect(msg({ ...base, finalRetention: 1, initialRetention: 0.5 })).toEqual([
      ['sched.config.finalRetention', 'finalRetention must be <= initialRetention (0.5), got 1'],
    ]);
    expect(msg({ ...base, endStep: 0 })).toEqual([['sched.config.endStep', 'endStep must be >= 1, got 0']]);
    expect(msg({ ...base, beginStep: 100 })).toEqual([
      ['sched.config.endStep', 'endStep must be > beginStep (100), got 100'],
    ]);
    expect(msg({ ...base, endStep: 95 })).toEqual([
      ['sched.config.endStep', 'endStep − beginStep must be a multiple of frequency (10), got 95 − 0 = 95'],
    ]);
    expect(msg({ ...base, exponent: 0 })).toEqual([['sched.config.exponent', 'exponent must be > 0, got 0']]);
    expect(msg({ ...base, endstep: 100 })[0]).toEqual([
      'sched.config.endstep',
      "unknown parameter 'endstep'; expected one of: initialRetention, finalRetention, beginStep, endStep, frequency, exponent",
    ]);
    expect(() => new PolynomialDecay({ ...base, frequency: 7 })).toThrow(ConfigError);
  });

  it('names the parameter and range in its errors', () => {
    const base = { initialRetention: 1, finalRetention: 0.1, beginStep: 0, endStep: 100 };
    expect(() => new PolynomialDecay({ ...base, finalRetention: 1.5 })).toThrow(
      'finalRetention must be in (0, 1], got 1.5',
    );
    expect(() => new PolynomialDecay({ ...base, beginStep: -1 })).toThrow('beginStep must be >= 0, got -1');
    expect(() => new PolynomialDecay({ ...base, frequency: 0 })).toThrow('frequency must be >= 1, got 0');
    expect(() => new PolynomialDecay({ ...base, frequency: 1.5 })).toThrow(
      'frequency must be an integer >= 1, got 1.5',
    );
    expect(() => new PolynomialDecay({ ...base, finalRetention: 0, beginStep: -1 })).toThrow(SpecError);
  });
});

describe('IterativeRetention (Han et al. 2015)', () => {
  it('round i prunes to retentions[i]; afterwards the last holds, inactive', () => {
    const s = new IterativeRetention([0.8, 0.5, 0.5, 0.3]);
    expect([0, 1, 2, 3].map((t) => s.at(t))).toEqual(
      [0.8, 0.5, 0.5, 0.3].map((retention) => ({ active: true, retention })),
    );
    expect(s.at(4)).toEqual({ active: false, retention: 0.3 });
  });

  it('validates: non-empty, each in (0, 1], non-increasing', () => {
    const msg = (r: unknown) =>
      IterativeRetention.validate({ retentions: r }).map((e) => [e.location?.path, e.message]);
    expect(msg([])).toEqual([
      ['config.retentions', 'retentions must be a non-empty array of numbers in (0, 1], got []'],
    ]);
    expect(msg([0.5, 0])).toEqual([['config.retentions[1]', 'retentions[1] must be in (0, 1], got 0']]);
    expect(msg([0.5, 0.7])).toEqual([
      ['config.retentions[1]', 'retentions must be non-increasing: retentions[1] = 0.7 > retentions[0] = 0.5'],
    ]);
    expect(msg(['0.5'])).toEqual([['config.retentions[0]', 'retentions[0] must be in (0, 1], got "0.5"']]);
    expect(() => new IterativeRetention([1, 2])).toThrow('retentions[1] must be in (0, 1], got 2');
  });

  it('geometric: round i of n keeps final^(i/n), the last round exactly final', () => {
    const s = IterativeRetention.geometric(0.1, 3);
    expect(s.retentions).toEqual([0.1 ** (1 / 3), 0.1 ** (2 / 3), 0.1]);
    expect(s.retentions[0]).toBeCloseTo(0.464159, 6);
    expect(IterativeRetention.geometric(0.5, 1).retentions).toEqual([0.5]);
    expect(() => IterativeRetention.geometric(0.5, 0)).toThrow('iterative: rounds must be an integer >= 1, got 0');
    expect(() => IterativeRetention.geometric(0, 2)).toThrow('retentions[0] must be in (0, 1], got 0');
  });
});

/** Every schedule kind, a few configurations each; the conformance tests run over all of them. */
const SCHEDULES: Record<string, PruningSchedule[]> = {
  'polynomial-decay': [
    new PolynomialDecay({ initialRetention: 1, finalRetention: 0.1, beginStep: 0, endStep: 100, frequency: 10 }),
    new PolynomialDecay({ initialRetention: 0.7, finalRetention: 0.7, beginStep: 5, endStep: 6, exponent: 0.5 }),
  ],
  iterative: [
    new IterativeRetention([1]),
    new IterativeRetention([0.9, 0.6, 0.3, 0.1]),
    IterativeRetention.geometric(0.1, 3),
  ],
};

describe.each(Object.entries(SCHEDULES))('schedule conformance: %s', (kind, schedules) => {
  it('toJSON → JSON text → scheduleFromJSON gives the same schedule', () => {
    for (const s of schedules) {
      const json = JSON.parse(JSON.stringify(s.toJSON())) as unknown;
      expect(s.toJSON().kind).toBe(kind);
      expect(validateSchedule(json)).toEqual([]);
      const back = scheduleFromJSON(json);
      expect(back.toJSON()).toEqual(s.toJSON());
      for (let t = 0; t < 130; t++) expect(back.at(t)).toEqual(s.at(t));
    }
  });

  it('retention is in (0, 1] and never increases; some step is active', () => {
    for (const s of schedules) {
      let prev = Infinity;
      let anyActive = false;
      for (let t = 0; t < 130; t++) {
        const { active, retention } = s.at(t);
        expect(retention > 0 && retention <= 1).toBe(true);
        expect(retention).toBeLessThanOrEqual(prev);
        prev = retention;
        anyActive ||= active;
      }
      expect(anyActive).toBe(true);
    }
  });

  it('refuses non-integer and negative steps', () => {
    for (const s of schedules) {
      expect(() => s.at(-1)).toThrow(/step must be an integer >= 0, got -1/);
      expect(() => s.at(1.5)).toThrow(RangeError);
    }
  });
});

describe('scheduleFromJSON', () => {
  it('locates every problem under the given path, with a did-you-mean for kinds', () => {
    const es = validateSchedule({ kind: 'polynomal-decay', config: {} }, 'stages[0].schedule');
    expect(es.map((e) => e.describe())).toEqual([
      'stages[0].schedule.kind: kind must be one of: polynomial-decay, iterative, got "polynomal-decay" (did you mean \'polynomial-decay\'?)',
    ]);
    expect(validateSchedule(null, 's')[0].message).toMatch(/must be an object \{ kind, config \}, got null/);
    expect(validateSchedule({ kind: 'iterative', config: [] }, 's')[0].location?.path).toBe('s.config');
    expect(
      validateSchedule({ kind: 'iterative', config: { retentions: [0.5] }, extra: 1 }, 's').map(
        (e) => e.location?.path,
      ),
    ).toEqual(['s.extra']);
    expect(() =>
      scheduleFromJSON({ kind: 'polynomial-decay', config: { initialRetention: 1, beginStep: 0, endStep: 10 } }, 's'),
    ).toThrow("missing required parameter 'finalRetention'");
    expect(() => scheduleFromJSON({ kind: 'iterative', config: { retentions: [0.5, 0.9] } })).toThrow(ConfigError);
  });
});
