import type { ParamValue } from '@squash/core';
import type { Constraint, SearchMetric } from './constraint.js';

/** The strategies a search may use; `random` is the general-purpose yardstick. */
export const SEARCH_STRATEGIES = ['sensitivity', 'random'] as const;
export type SearchStrategyName = (typeof SEARCH_STRATEGIES)[number];

/** `{ min, max, log?, integer? }`: a continuous (or integer) interval. */
export interface WrittenRange {
  min: number;
  max: number;
  log?: boolean;
  integer?: boolean;
}
/** One written value of a search pipeline's param: fixed, a list (choose one), a range, or per layer. */
export type WrittenSpace = ParamValue | ParamValue[] | WrittenRange | { 'per-layer': ParamValue[] | WrittenRange };

/** A search pipeline stage: `{ prune-iterative: { retention: { per-layer: {…} }, rounds: 3 } }`. */
export type WrittenSearchStage = Record<string, Record<string, WrittenSpace | unknown>>;

/** `objective: { minimize: artifact_bytes }` or a weighted sum `{ minimize: { artifact_bytes: 1, loss: 1000 } }`. */
export type WrittenObjective =
  | { minimize: string | Record<string, number> }
  | { maximize: string | Record<string, number> };

export interface WrittenSearch {
  name: string;
  objective: WrittenObjective;
  constraints?: string[];
  pipeline: WrittenSearchStage[];
  budget?: { trials?: number; minutes?: number };
  strategy?: SearchStrategyName;
  /** Candidates proposed at once (run in parallel by --jobs or queue workers); fixed so results do not depend on --jobs. */
  batch?: number;
  /** The strategy's own seed (default: the experiment's seed). */
  seed?: number;
}

export interface Objective {
  /** Weighted sum of metrics, minimized (a `maximize` objective has its weights negated). */
  weights: Partial<Record<SearchMetric, number>>;
  /** As written, for messages and tables. */
  text: string;
}

/** A search with defaults filled in and constraints parsed. */
export interface SearchSpec {
  name: string;
  objective: Objective;
  constraints: Constraint[];
  pipeline: WrittenSearchStage[];
  budget: { trials: number; minutes?: number };
  strategy: SearchStrategyName;
  batch: number;
  seed: number;
}

export const SEARCH_DEFAULTS = { trials: 40, batch: 4, strategy: 'sensitivity' } as const;

/** A proposal made concrete: the stages of one ordinary trial, under the search's name as its sweep. */
export interface Candidate {
  search: string;
  stages: Array<Record<string, Record<string, unknown>>>;
}
