import type { RunView } from '@squash/contract';
import { type MetricValues, SEARCH_METRICS, SEARCH_METRIC_NAMES, shortfall } from './constraint.js';
import type { Observation } from './strategy.js';
import type { SearchSpec } from './types.js';

/** A run's search metrics (accuracy and loss from the validation split). */
export function searchMetricsOf(metrics: Record<string, number>): MetricValues {
  const out: MetricValues = {};
  for (const m of SEARCH_METRIC_NAMES) {
    const v = metrics[SEARCH_METRICS[m].key];
    if (v !== undefined) out[m] = v;
  }
  return out;
}

/** How one candidate fares: every constraint's shortfall and the objective (minimized). */
export interface Judgement {
  feasible: boolean;
  /** Per constraint, how far from holding (0 when it holds), in the constraint's units. */
  shortfalls: number[];
  /** All constraints' shortfalls, each relative to its bound (bytes and accuracy add up fairly). */
  miss: number;
  score?: number;
}

/** A constraint's scale: the magnitude of the bound it sets on its one metric, else 1. */
function scaleOf(c: SearchSpec['constraints'][number], baseline: MetricValues): number {
  const b = boundOf(c, baseline);
  return b && Math.abs(b.value) > 0 ? Math.abs(b.value) : 1;
}

export function judge(spec: SearchSpec, baseline: MetricValues, run: RunView | undefined): Judgement {
  if (run?.status !== 'FINISHED')
    return { feasible: false, shortfalls: spec.constraints.map(() => Infinity), miss: Infinity };
  const m = searchMetricsOf(run.metrics);
  const checks = spec.constraints.map((c) => shortfall(c, m, baseline));
  let score = 0;
  for (const [metric, w] of Object.entries(spec.objective.weights)) {
    const v = m[metric as keyof MetricValues];
    if (v === undefined) return { feasible: false, shortfalls: checks.map((c) => c.by), miss: Infinity };
    score += w! * v;
  }
  const miss = checks.reduce((sum, c, i) => sum + c.by / scaleOf(spec.constraints[i]!, baseline), 0);
  return { feasible: checks.every((c) => c.met), shortfalls: checks.map((c) => c.by), miss, score };
}

export function observationOf(values: Observation['values'], j: Judgement): Observation {
  return {
    values,
    feasible: j.feasible,
    shortfall: j.feasible ? 0 : j.miss,
    ...(j.score !== undefined ? { score: j.score } : {}),
  };
}

export interface CandidateResult extends Judgement {
  run?: RunView;
  trialId: string;
  /** 1-based, in proposal order. */
  index: number;
  /** On the front of objective vs the constraints' shortfall (no other candidate is at least as good on both). */
  front: boolean;
}

/** What a search ends with: the best feasible candidate, else the nearest miss and by how much. */
export interface SearchOutcome {
  search: string;
  strategy: string;
  objective: string;
  constraints: string[];
  baseline: MetricValues;
  candidates: CandidateResult[];
  best?: CandidateResult;
  /** When no candidate meets every constraint: the one that misses by least (ties: the better objective). */
  bestEffort?: CandidateResult;
  seconds?: number;
  /** Where the chosen model's .sqz was copied under a stable name. */
  kept?: string;
  /** Each constraint on one trial metric as a bound on it (`accuracy >= 0.9813`), for plots. */
  bounds: Array<{ metric: string; value: number; text: string }>;
}

/** A constraint naming one trial metric, solved for it with the baseline's values. */
function boundOf(c: SearchSpec['constraints'][number], baseline: MetricValues) {
  const own = c.diff.terms.filter((t) => !t.baseline);
  if (own.length !== 1) return undefined;
  let rest = c.diff.constant;
  for (const t of c.diff.terms.filter((x) => x.baseline)) {
    const v = baseline[t.metric];
    if (v === undefined) return undefined;
    rest += t.coef * v;
  }
  return { metric: own[0]!.metric, value: -rest / own[0]!.coef, text: c.text };
}

/** Marks the front: a candidate is on it unless another has a lower-or-equal score and shortfall, one strictly. */
function markFront(results: CandidateResult[]): void {
  const total = (r: CandidateResult) => r.miss;
  for (const r of results) {
    if (r.score === undefined) continue;
    r.front = !results.some(
      (o) =>
        o !== r &&
        o.score !== undefined &&
        o.score <= r.score! &&
        total(o) <= total(r) &&
        (o.score < r.score! || total(o) < total(r)),
    );
  }
}

export function outcomeOf(
  spec: SearchSpec,
  baseline: MetricValues,
  runs: Array<{ trialId: string; run?: RunView }>,
): SearchOutcome {
  const candidates: CandidateResult[] = runs.map((r, i) => ({
    ...judge(spec, baseline, r.run),
    run: r.run,
    trialId: r.trialId,
    index: i + 1,
    front: false,
  }));
  markFront(candidates);
  const scored = candidates.filter((c) => c.score !== undefined);
  const best = scored.filter((c) => c.feasible).sort((a, b) => a.score! - b.score! || a.index - b.index)[0];
  const total = (c: CandidateResult) => c.miss;
  const bestEffort = best
    ? undefined
    : scored.sort((a, b) => total(a) - total(b) || a.score! - b.score! || a.index - b.index)[0];
  return {
    search: spec.name,
    strategy: spec.strategy,
    objective: spec.objective.text,
    constraints: spec.constraints.map((c) => c.text),
    baseline,
    candidates,
    bounds: spec.constraints.flatMap((c) => boundOf(c, baseline) ?? []),
    ...(best ? { best } : {}),
    ...(bestEffort ? { bestEffort } : {}),
  };
}
