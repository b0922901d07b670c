import { describe, expect, it } from 'vitest';
import { learningRateAt } from './schedule.js';

describe('learning-rate schedules at chosen steps', () => {
  it('constant', () => {
    expect(learningRateAt(0.1, {}, 0, 100)).toBe(0.1);
    expect(learningRateAt(0.1, {}, 99, 100)).toBe(0.1);
  });
  it("inv, Caffe's LeNet solver: 0.01 · (1 + 1e-4·t)^−0.75", () => {
    const s = { schedule: 'inv' as const, gamma: 1e-4, power: 0.75 };
    expect(learningRateAt(0.01, s, 0, 10_000)).toBe(0.01);
    expect(learningRateAt(0.01, s, 5000, 10_000)).toBeCloseTo(0.01 * 1.5 ** -0.75, 12);
    expect(learningRateAt(0.01, s, 9999, 10_000)).toBeCloseTo(0.01 * (1 + 0.9999) ** -0.75, 12);
    // γ and power default to Caffe's LeNet values.
    expect(learningRateAt(0.01, { schedule: 'inv' }, 5000, 10_000)).toBeCloseTo(0.01 * 1.5 ** -0.75, 12);
  });
  it('step: × γ every stepSize steps', () => {
    const s = { schedule: 'step' as const, stepSize: 30, gamma: 0.5 };
    expect(learningRateAt(1, s, 29, 100)).toBe(1);
    expect(learningRateAt(1, s, 30, 100)).toBe(0.5);
    expect(learningRateAt(1, s, 95, 100)).toBe(0.125);
    expect(learningRateAt(1, { schedule: 'step', stepSize: 10 }, 10, 100)).toBeCloseTo(0.1, 12);
  });
  it('multistep: × γ at each milestone passed', () => {
    const s = { schedule: 'multistep' as const, milestones: '10,25', gamma: 0.1 };
    expect(learningRateAt(1, s, 9, 100)).toBe(1);
    expect(learningRateAt(1, s, 10, 100)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(1, s, 24, 100)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(1, s, 25, 100)).toBeCloseTo(0.01, 12);
  });
  it('cosine: from lr to minLearningRate over the run, half-way at the middle', () => {
    const s = { schedule: 'cosine' as const, minLearningRate: 0.1 };
    expect(learningRateAt(1, s, 0, 101)).toBe(1);
    expect(learningRateAt(1, s, 50, 101)).toBeCloseTo(0.55, 12);
    expect(learningRateAt(1, s, 100, 101)).toBeCloseTo(0.1, 12);
  });
  it('warmup: linear over the first steps, then the schedule', () => {
    const s = { schedule: 'cosine' as const, warmupSteps: 10 };
    expect(learningRateAt(1, s, 0, 110)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(1, s, 4, 110)).toBeCloseTo(0.5, 12);
    expect(learningRateAt(1, s, 10, 110)).toBe(1);
    expect(learningRateAt(1, s, 109, 110)).toBeCloseTo(0, 12);
    expect(learningRateAt(2, { warmupSteps: 4 }, 1, 10)).toBeCloseTo(1, 12);
  });
});
