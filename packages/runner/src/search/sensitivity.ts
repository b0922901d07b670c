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
 * A layer's next smaller option on its own front (less bytes, the least drop among those), or
 * undefined at its smallest; `larger` the other way.
 */
function step(c: LayerCurve, from: number, larger: boolean): number | undefined {
  const here = c.options[from]!;
  let best: number | undefined;
  c.options.forEach((o, i) => {
    if (larger ? o.bytes <= here.bytes : o.bytes >= here.bytes) return;
    if (larger && o.drop >= here.drop) return;
    const b = best === undefined ? undefined : c.options[best]!;
    // Smaller: the least drop, then the most bytes (the nearest step). Larger: the least bytes that lowers the drop.
    if (!b || (larger ? o.bytes < b.bytes : o.drop < b.drop || (o.drop === b.drop && o.bytes > b.bytes))) best = i;
  });
  return best;
}

/**
 * The compression-aware strategy. Per-layer sensitivity curves (measured once, no retraining) give
 * a ladder of allocations from the Lagrangian sweep; candidates are verified with the full pipeline
 * (retraining included), first bisecting the ladder — batches spread over the interval between the
 * best feasible rung and its nearest infeasible neighbour — then refining the best feasible model
 * one layer at a time, the moves ranked by predicted bytes saved per accuracy risked.
 */
export function sensitivityStrategy(
  curves: readonly LayerCurve[],
  fixed: Assignment,
  /** Whether rungs with fewer predicted bytes score better (minimizing size) or worse (maximizing accuracy). */
  smallerIsBetter: boolean,
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
      return refine(history, n, take, out);
    },
  };

  /** One-layer moves from the best feasible candidate (or, when none is, from the nearest miss). */
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
    const towardBetter = feasible.length > 0;
    // Moves of one layer (or two at once, once single moves are used up), ranked by bytes per risk.
    const moves: Array<{ a: Allocation; rank: number }> = [];
    const bigger = !towardBetter === smallerIsBetter;
    curves.forEach((c, u) => {
      const to = step(c, anchor[u]!, bigger);
      if (to === undefined) return;
      const a = anchor.slice();
      a[u] = to;
      const saved = Math.abs(predicted(anchor) - predicted(a));
      const risked = Math.abs(risk(a) - risk(anchor));
      moves.push({ a, rank: bigger ? risked / (saved + 1) : saved / (risked + 1e-4) });
    });
    moves.sort((x, y) => y.rank - x.rank);
    for (const m of moves) if (out.length < n) take(toAssignment(m.a));
    for (let i = 0; i < moves.length && out.length < n; i++)
      for (let j = i + 1; j < moves.length && out.length < n; j++) {
        const a = moves[i]!.a.map((o, u) => (o !== anchor[u] ? o : moves[j]!.a[u]!));
        take(toAssignment(a));
      }
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
