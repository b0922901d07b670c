import { createRng } from '@squash/core';
import type { Assignment, Dimension } from './space.js';
import { valueAt } from './space.js';

/** What a strategy learns from one finished (or failed) candidate. */
export interface Observation {
  values: Assignment;
  /** Every constraint met (on validation). */
  feasible: boolean;
  /** Summed shortfall over the constraints (0 when feasible; Infinity when the trial failed). */
  shortfall: number;
  /** The objective, minimized (undefined when the trial failed). */
  score?: number;
}

/**
 * Proposes up to `n` new assignments from everything observed so far, in proposal order. A pure
 * function of its inputs (and its seed), so a resumed search proposes exactly what it did before
 * and finds those trials already finished. An empty batch ends the search.
 */
export interface Strategy {
  propose(history: readonly Observation[], n: number): Assignment[];
}

/** One key per assignment: equal values are one trial. */
export const assignmentKey = (a: Assignment): string => JSON.stringify(a);

/**
 * Random search (Bergstra & Bengio 2012), the yardstick: every dimension drawn independently,
 * log-uniformly on log ranges. The stream for the k-th proposal depends only on the seed and k,
 * so history never changes what is drawn, only what is skipped as already tried.
 */
export function randomStrategy(dims: readonly Dimension[], seed: number): Strategy {
  return {
    propose(history, n) {
      const seen = new Set(history.map((o) => assignmentKey(o.values)));
      const out: Assignment[] = [];
      const rng = createRng(seed * 7919 + 17);
      // Skip the draws earlier batches used (each draw takes dims.length numbers).
      for (let k = 0; k < history.length * dims.length; k++) rng.next();
      for (let attempt = 0; out.length < n && attempt < 1000 * n; attempt++) {
        const a = dims.map((d) => valueAt(d.domain, rng.next()));
        const key = assignmentKey(a);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(a);
      }
      return out;
    },
  };
}
