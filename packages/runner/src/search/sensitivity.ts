import type { ParamValue } from '@squash/core';
import type { Assignment, Domain } from './space.js';
import { roundValue } from './space.js';
import { assignmentKey, type Observation, type Strategy } from './strategy.js';

/** Points of a per-layer range a sensitivity curve is measured at. */
export const CURVE_POINTS = 12;

/** The values a layer's curve is measured at: every choice; a range at CURVE_POINTS (log-)spaced points. */
export function curveValues(domain: Domain): ParamValue[] {
  if (domain.kind === 'choice') return domain.values;
  const { min, max, log, integer } = domain;
  if (integer && max - min < CURVE_POINTS) return Array.from({ length: max - min + 1 }, (_, k) => min + k);
  const out = new Set<number>();
  for (let k = 0; k < CURVE_POINTS; k++) {
    const u = k / (CURVE_POINTS - 1);
    const x = log ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
    out.add(Math.min(max, Math.max(min, roundValue(x, integer))));
  }
  return [...out];
}

/** A value held fixed by the sensitivity strategy (a space searched for all layers at once): the middle. */
export function middleValue(domain: Domain): ParamValue {
  if (domain.kind === 'choice') return domain.values[Math.floor((domain.values.length - 1) / 2)]!;
  const { min, max, log, integer } = domain;
  return roundValue(log ? Math.sqrt(min * max) : (min + max) / 2, integer);
}

/** One measured setting of one layer: its dimensions' values, the encoded bytes and the accuracy lost without retraining. */
export interface LayerOption {
  values: ParamValue[];
  bytes: number;
  drop: number;
}

/** A layer's sensitivity curve: `dims` index the search's dimensions; each option sets all of them. */
export interface LayerCurve {
  layer: string;
  dims: number[];
  options: LayerOption[];
}

/** Allocation = one option index per layer curve. */
type Allocation = number[];

/** λ from 1 to 1e12 bytes per unit of accuracy: past both ends every allocation is the same. */
const LAMBDAS = Array.from({ length: 481 }, (_, k) => 10 ** (k / 40));

/**
 * The allocations a Lagrangian sweep gives: for each λ, every layer takes the option minimizing
 * bytes + λ·drop (drops add up across layers to a first approximation). Distinct ones in λ order:
 * smallest predicted model first, the least damaged last.
 */
export function allocationLadder(curves: readonly LayerCurve[]): Allocation[] {
  const out: Allocation[] = [];
  const seen = new Set<string>();
  for (const lambda of LAMBDAS) {
    const a = curves.map((c) => {
      let best = 0;
      let cost = Infinity;
      c.options.forEach((o, i) => {
        const x = o.bytes + lambda * Math.max(0, o.drop);
        if (x < cost || (x === cost && o.bytes > c.options[best]!.bytes)) {
          cost = x;
          best = i;
        }
      });
      return best;
    });
    const key = a.join(',');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(a);
    }
  }
  return out;
}

/**
 * A layer's own front: its options that no other beats on both bytes and drop, from the smallest
 * (most damaged) to the largest (least damaged); refinement steps along it.
 */
function frontOf(c: LayerCurve): number[] {
  const order = c.options
    .map((_, i) => i)
    .sort((i, j) => c.options[i]!.bytes - c.options[j]!.bytes || c.options[i]!.drop - c.options[j]!.drop);
  const out: number[] = [];
  let best = Infinity;
  for (const i of order) {
    if (c.options[i]!.drop < best) {
      out.push(i);
      best = c.options[i]!.drop;
    }
  }
  return out;
}

/** Where an option sits on its layer's front: its place, else the largest front option not bigger than it. */
function frontPosition(front: number[], c: LayerCurve, option: number): number {
  const at = front.indexOf(option);
  if (at >= 0) return at;
  let pos = 0;
  front.forEach((i, k) => {
    if (c.options[i]!.bytes <= c.options[option]!.bytes) pos = k;
  });
  return pos;
}

/** Refinement moves, as steps along the layers' fronts: one layer by 1–3, two layers together or traded. */
const SINGLE_STEPS = [1, 2, 3];
const PAIR_STEPS: Array<[number, number]> = [
  [1, 1],
  [1, -1],
  [2, -1],
];

/**
 * The compression-aware strategy. Per-layer sensitivity curves (measured once, no retraining) give
 * a ladder of allocations from the Lagrangian sweep; candidates are verified with the full pipeline
 * (retraining included), first bisecting the ladder — batches spread over the interval between the
 * best feasible rung and its nearest infeasible neighbour — then refining the best feasible model
 * one layer at a time, the moves ranked by predicted bytes saved per accuracy risked. Once
 * nothing is left to bisect or refine, `explore` (random search) spends the rest of the budget.
 */
export function sensitivityStrategy(
  curves: readonly LayerCurve[],
  fixed: Assignment,
  /** Whether rungs with fewer predicted bytes score better (minimizing size) or worse (maximizing accuracy). */
  smallerIsBetter: boolean,
  /** What proposes once the ladder and the moves are used up (the rest of the budget explores). */
  explore?: Strategy,
): Strategy {
  const ladder = allocationLadder(curves);
  const toAssignment = (a: Allocation): Assignment => {
    const v = fixed.slice();
    curves.forEach((c, u) => c.dims.forEach((d, k) => (v[d] = c.options[a[u]!]!.values[k]!)));
    return v;
  };
  const predicted = (a: Allocation) => a.reduce((s, o, u) => s + curves[u]!.options[o]!.bytes, 0);
  const risk = (a: Allocation) => a.reduce((s, o, u) => s + Math.max(0, curves[u]!.options[o]!.drop), 0);
  // Rung 0 is the best-scoring end: the smallest model when minimizing size.
  const rungs = smallerIsBetter ? ladder : ladder.slice().reverse();
  const keys = rungs.map((a) => assignmentKey(toAssignment(a)));
  const fronts = curves.map(frontOf);

  return {
    propose(history, n) {
      const byKey = new Map(history.map((o) => [assignmentKey(o.values), o]));
      const out: Assignment[] = [];
      const take = (a: Assignment) => {
        const k = assignmentKey(a);
        if (byKey.has(k) || out.some((x) => assignmentKey(x) === k)) return;
        out.push(a);
      };
      // Bisection over the ladder: `hi` the best feasible rung tried, `lo` the nearest infeasible one before it.
      let hi = rungs.length;
      for (let r = 0; r < rungs.length; r++) if (byKey.get(keys[r]!)?.feasible) hi = Math.min(hi, r);
      let lo = -1;
      for (let r = 0; r < hi; r++) if (byKey.has(keys[r]!)) lo = r;
      const untried: number[] = [];
      for (let r = lo + 1; r < hi; r++) if (!byKey.has(keys[r]!)) untried.push(r);
      if (untried.length) {
        for (let k = 1; k <= n && out.length < n; k++) {
          const r = untried[Math.min(untried.length - 1, Math.floor((k * untried.length) / (n + 1)))]!;
          take(toAssignment(rungs[r]!));
        }
        // Few rungs left: fill the batch with the rest, nearest the best end first.
        for (const r of untried) if (out.length < n) take(toAssignment(rungs[r]!));
        if (out.length) return out;
      }
      refine(history, n, take, out);
      if (!out.length && explore) for (const a of explore.propose(history, n)) take(a);
      return out;
    },
  };

  /**
   * Moves from the best feasible candidate (or, when none is, from the nearest miss), along the
   * layers' fronts toward the better objective (or toward less damage): one layer by 1–3 steps,
   * two layers together, or one traded against another. Ranked by what they gain per what they
   * risk in the curves' terms — bytes saved per accuracy drop added (or drop removed per byte).
   */
  function refine(
    history: readonly Observation[],
    n: number,
    take: (a: Assignment) => void,
    out: Assignment[],
  ): Assignment[] {
    const scored = history.filter((o) => o.score !== undefined);
    const feasible = scored.filter((o) => o.feasible).sort((a, b) => a.score! - b.score!);
    const anchorObs = feasible[0] ?? scored.slice().sort((a, b) => a.shortfall - b.shortfall)[0];
    if (!anchorObs) return out;
    const anchor = allocationOf(anchorObs.values);
    if (!anchor) return out;
    // −1: toward fewer bytes (a feasible model to shrink); +1: toward less damage (nothing feasible yet).
    const dir = feasible.length > 0 === smallerIsBetter ? -1 : 1;
    const at = anchor.map((o, u) => frontPosition(fronts[u]!, curves[u]!, o));
    const moves: Array<{ a: Allocation; rank: number }> = [];
    const consider = (steps: Array<[number, number]>) => {
      const a = anchor.slice();
      for (const [u, d] of steps) {
        const p = at[u]! + d;
        if (p < 0 || p >= fronts[u]!.length) return;
        a[u] = fronts[u]![p]!;
      }
      const dBytes = predicted(a) - predicted(anchor);
      const dRisk = risk(a) - risk(anchor);
      const gain = dir < 0 ? -dBytes : -dRisk;
      const cost = dir < 0 ? dRisk : dBytes;
      if (gain > 0) moves.push({ a, rank: gain / (Math.max(0, cost) + (dir < 0 ? 1e-4 : 1)) });
    };
    curves.forEach((_, u) => {
      for (const k of SINGLE_STEPS) consider([[u, dir * k]]);
      curves.forEach((_, v) => {
        if (v === u) return;
        for (const [k, l] of PAIR_STEPS)
          if (v > u || k !== l)
            consider([
              [u, dir * k],
              [v, dir * l],
            ]);
      });
    });
    moves.sort((x, y) => y.rank - x.rank);
    for (const m of moves) if (out.length < n) take(toAssignment(m.a));
    return out;
  }

  /** The option index of each layer in an assignment, if every layer's values are measured options. */
  function allocationOf(values: Assignment): Allocation | undefined {
    const a: Allocation = [];
    for (const c of curves) {
      const i = c.options.findIndex((o) => o.values.every((v, k) => values[c.dims[k]!] === v));
      if (i < 0) return undefined;
      a.push(i);
    }
    return a;
  }
}
