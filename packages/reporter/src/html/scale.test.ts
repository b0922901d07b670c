import { describe, expect, it } from 'vitest';
import { formatBytes, formatPercent, linearTicks, logTicks, niceStep, padLog, scale } from './scale.js';

describe('scales', () => {
  it('picks 1-2-5 steps and clean ticks', () => {
    expect(niceStep(1, 5)).toBe(0.2);
    expect(niceStep(0.037, 5)).toBe(0.005);
    expect(linearTicks([0.613, 0.992], 5)).toEqual({ ticks: [0.7, 0.8, 0.9], step: 0.1 });
    expect(linearTicks([1.6, 8.4], 5).ticks).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });
  it('log ticks: decades, or 1-2-5 within a short range', () => {
    expect(logTicks([3000, 2_000_000])).toEqual([10_000, 100_000, 1_000_000]);
    expect(logTicks([30_000, 500_000])).toEqual([50_000, 100_000, 200_000, 500_000]);
    expect(logTicks(padLog([1000, 1000])).length).toBeGreaterThanOrEqual(3);
  });
  it('maps and formats', () => {
    expect(scale([10, 1000], [0, 200], true)(100)).toBeCloseTo(100);
    expect(scale([0, 1], [300, 100])(0.5)).toBe(200);
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(100_000)).toBe('100 kB');
    expect(formatBytes(1_066_440)).toBe('1.07 MB');
    expect(formatPercent(0.975, 0.005)).toBe('97.5%');
    expect(formatPercent(0.9, 0.1)).toBe('90%');
  });
});
