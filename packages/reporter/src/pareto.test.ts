import { describe, expect, it } from 'vitest';
import { configFront, frontPoints, frontRuns, paretoFront, paretoFrontIndices, type ParetoPoint } from './pareto.js';

const p = (id: string, accuracy: number, bytes: number): ParetoPoint => ({ id, accuracy, bytes });

describe('paretoFront', () => {
  it('keeps exactly the non-dominated points', () => {
    const pts = [
      p('big-best', 0.98, 400_000),
      p('mid', 0.97, 100_000),
      p('small', 0.9, 20_000),
      p('worse-than-mid', 0.96, 150_000),
      p('tiny-bad', 0.5, 30_000),
      p('smallest', 0.6, 10_000),
    ];
    expect([...paretoFront(pts)].sort()).toEqual(['big-best', 'mid', 'small', 'smallest']);
  });
  it('same bytes: only the more accurate; same accuracy: only the smaller', () => {
    expect([...paretoFront([p('a', 0.9, 100), p('b', 0.95, 100)])]).toEqual(['b']);
    expect([...paretoFront([p('a', 0.9, 100), p('b', 0.9, 120)])]).toEqual(['a']);
  });
  it('exact duplicates do not dominate each other: all of them are on the front', () => {
    expect([...paretoFront([p('z', 0.9, 100), p('a', 0.9, 100), p('c', 0.8, 50)])].sort()).toEqual(['a', 'c', 'z']);
  });
  it('ignores non-finite points, handles empty input, and does not depend on order', () => {
    expect(paretoFront([]).size).toBe(0);
    expect([...paretoFront([p('nan', NaN, 1), p('inf', 1, Infinity), p('ok', 0.5, 10)])]).toEqual(['ok']);
    const pts = Array.from({ length: 200 }, (_, i) =>
      p(`r${i}`, ((i * 37) % 101) / 100, ((i * 53) % 97) * 1000 + 1000),
    );
    const expected = [...paretoFront(pts)].sort();
    const brute = pts
      .filter(
        (q) =>
          !pts.some(
            (o) => o.accuracy >= q.accuracy && o.bytes <= q.bytes && (o.accuracy > q.accuracy || o.bytes < q.bytes),
          ),
      )
      .map((q) => q.id)
      .sort();
    expect(expected).toEqual(brute);
    expect([...paretoFront([...pts].reverse())].sort()).toEqual(expected);
  });
  it('large inputs (the binned prefilter path) match brute force, ties and duplicates included', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pts = Array.from({ length: 6000 }, (_, i) =>
      p(`r${i}`, Math.round(rand() * 400) / 400, Math.round(10 ** (3 + rand() * 3))),
    );
    pts.push(p('dup-a', 0.999, 900), p('dup-b', 0.999, 900), p('tiny', 0, 1), p('huge', 1, 10 ** 7));
    const brute = pts
      .filter(
        (q) =>
          !pts.some(
            (o) => o.accuracy >= q.accuracy && o.bytes <= q.bytes && (o.accuracy > q.accuracy || o.bytes < q.bytes),
          ),
      )
      .map((q) => q.id)
      .sort();
    expect([...paretoFront(pts)].sort()).toEqual(brute);
    expect(brute).toContain('dup-a');
    expect(brute).toContain('dup-b');
  });
  it('frontPoints orders the front by bytes, accuracy rising', () => {
    const f = frontPoints([p('a', 0.98, 400), p('b', 0.5, 10), p('c', 0.9, 100), p('d', 0.1, 500)]);
    expect(f.map((x) => x.id)).toEqual(['b', 'c', 'a']);
  });
});

describe('configFront', () => {
  it('puts configurations on the front at their means over seeds', () => {
    // Config 0: seeds at 95 % and 85 % (mean 90 %), config 1: one run at 91 %, same bytes; config 2 smaller, worse.
    const accuracy = [0.95, 0.85, 0.91, 0.5, NaN];
    const bytes = [100, 100, 100, 10, 5];
    const config = [0, 0, 1, 2, 3];
    const front = configFront(accuracy, bytes, config, [0, 1, 2, 3, 4]);
    expect(front.map((c) => c.runs)).toEqual([[3], [2]]);
    expect(front[1]).toEqual({ accuracy: 0.91, bytes: 100, runs: [2] });
    expect([...frontRuns(front)].sort()).toEqual([2, 3]);
    // Per run, the lucky seed would have been on the front instead.
    expect([...paretoFrontIndices(accuracy, bytes, [0, 1, 2, 3, 4])].sort()).toEqual([0, 3]);
  });
  it('is the run front when every configuration has one run', () => {
    const n = 300;
    const accuracy = Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 101);
    const bytes = Array.from({ length: n }, (_, i) => ((i * 53) % 97) + 1);
    const all = accuracy.map((_, i) => i);
    const front = configFront(accuracy, bytes, all, all);
    expect([...frontRuns(front)].sort((a, b) => a - b)).toEqual(
      [...paretoFrontIndices(accuracy, bytes, all)].sort((a, b) => a - b),
    );
  });
});
