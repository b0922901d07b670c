import { compressorRegistry } from '@squash/compressors';
import { ConfigError, didYouMean, type ParamValue, type SourceLocation } from '@squash/core';
import type { PathSegment } from '../spec/locate.js';
import { seedsOf } from '../spec/normalize.js';
import type { ReadExperiment } from '../spec/types.js';
import { layerOverrideParams, stageNames, stageRegistry, validateStage } from '../stages/registry.js';
import {
  type Constraint,
  ExpressionError,
  parseConstraint,
  SEARCH_METRIC_NAMES,
  SEARCH_METRICS,
  type SearchMetric,
} from './constraint.js';
import { type Dimension, dimensionsOf } from './space.js';
import { candidateStages } from './space.js';
import {
  type Objective,
  SEARCH_DEFAULTS,
  type SearchSpec,
  type WrittenObjective,
  type WrittenSearch,
} from './types.js';

type At = (path: PathSegment[], key?: string) => SourceLocation;
/** Where column `col` (1-based) of the string at `path` is in the file. */
export type AtText = (path: PathSegment[], col: number) => SourceLocation;

/** `search:` as written: one search or a list of them (run one after the other, side by side in one report). */
export function writtenSearches(w: Pick<ReadExperiment, 'search'>): WrittenSearch[] {
  if (!w.search) return [];
  return Array.isArray(w.search) ? w.search : [w.search];
}

/** Path of the i-th search: `search` alone, or `search[i]` in a list. */
export function searchPath(w: Pick<ReadExperiment, 'search'>, i: number): PathSegment[] {
  return Array.isArray(w.search) ? ['search', i] : ['search'];
}

/** The weight compressor a sensitivity probe applies for a stage, or undefined when it cannot probe it. */
export function probeCompressorOf(stage: string): string | undefined {
  const name = stageRegistry.has(stage) ? stageRegistry.get(stage).probeCompressor : undefined;
  return name && compressorRegistry.has(name) && compressorRegistry.get(name).kind === 'weights' ? name : undefined;
}

function objectiveOf(o: WrittenObjective): {
  weights: Record<string, number>;
  sign: number;
  key: 'minimize' | 'maximize';
} {
  const key = 'minimize' in o ? 'minimize' : 'maximize';
  const v = (o as Record<string, string | Record<string, number>>)[key]!;
  return { weights: typeof v === 'string' ? { [v]: 1 } : v, sign: key === 'minimize' ? 1 : -1, key };
}

export function parseObjective(o: WrittenObjective): Objective {
  const { weights, sign, key } = objectiveOf(o);
  const text = Object.entries(weights)
    .map(([m, w]) => (w === 1 ? m : `${w}·${m}`))
    .join(' + ');
  return {
    weights: Object.fromEntries(Object.entries(weights).map(([m, w]) => [m, sign * w])) as Objective['weights'],
    text: `${key} ${text}`,
  };
}

/** Every value a dimension can take at its ends: a range's bounds, every listed choice. */
function extremes(d: Dimension): ParamValue[] {
  return d.domain.kind === 'range' ? [d.domain.min, d.domain.max] : d.domain.values;
}

function checkDimension(d: Dimension, at: At, errors: ConfigError[]): boolean {
  if (d.domain.kind === 'choice') return true;
  const { min, max, log, integer } = d.domain;
  const where = { location: at(d.path) };
  if (!(min < max)) {
    errors.push(new ConfigError(`impossible bounds: min ${min} must be below max ${max}`, where));
    return false;
  }
  if (log && min <= 0) {
    errors.push(new ConfigError(`a log range needs min > 0, got ${min}`, where));
    return false;
  }
  if (integer && (!Number.isInteger(min) || !Number.isInteger(max))) {
    errors.push(new ConfigError(`an integer range needs integer bounds, got [${min}, ${max}]`, where));
    return false;
  }
  return true;
}

/**
 * Each stage checked as it would run at the ends of every space (the other spaces at their first
 * value): a bound no trial could use (retention 1.5, bits 0) is reported where the space is written.
 */
function checkPipeline(s: WrittenSearch, base: PathSegment[], layers: string[], at: At, errors: ConfigError[]): void {
  const known = stageNames();
  let ok = true;
  s.pipeline.forEach((stage, j) => {
    const name = Object.keys(stage)[0]!;
    if (!stageRegistry.has(name)) {
      const near = didYouMean(name, known);
      errors.push(
        new ConfigError(`unknown stage '${name}'${near ? `; did you mean '${near}'?` : ''}`, {
          location: at([...base, 'pipeline', j], name),
          hint: `known: ${known.join(', ')}`,
        }),
      );
      ok = false;
    }
  });
  if (!ok) return;
  const dims = dimensionsOf(s.pipeline, layers, [...base, 'pipeline']);
  // Every space's bounds are reported, not only the first bad one.
  if (!dims.map((d) => checkDimension(d, at, errors)).every(Boolean)) return;
  for (const d of dims) {
    if (d.layer !== undefined && !layerOverrideParams(d.compressor)?.[d.param]) {
      errors.push(
        new ConfigError(`'${d.compressor}' cannot set '${d.param}' per layer`, {
          location: at(d.path),
          hint: `per-layer params of ${d.compressor}: ${Object.keys(layerOverrideParams(d.compressor) ?? {}).join(', ') || 'none'}`,
        }),
      );
      return;
    }
    if (s.strategy !== 'random' && d.layer !== undefined && !probeCompressorOf(d.compressor)) {
      errors.push(
        new ConfigError(`the sensitivity strategy cannot probe '${d.compressor}.${d.param}' per layer`, {
          location: at(d.path),
          hint: 'use strategy: random for this space, or search it as one value for all layers',
        }),
      );
      return;
    }
  }
  const first = dims.map((d) => extremes(d)[0]!);
  const seen = new Set<string>();
  dims.forEach((d, i) => {
    for (const v of extremes(d)) {
      const values = first.slice();
      values[i] = v;
      const stages = candidateStages(s.pipeline, dims, values);
      const [name, params] = Object.entries(stages[d.stage]!)[0]!;
      const { layers: overrides, ...own } = params as Record<string, ParamValue> & { layers?: unknown };
      const merged =
        d.layer !== undefined
          ? { ...own, ...(overrides as Array<Record<string, ParamValue>>).find((o) => o.match === d.layer) }
          : own;
      delete merged.match;
      for (const e of validateStage(name, merged, '')) {
        // A per-layer space is one written value: reported once, not once per layer.
        const key = `${d.path.join('.')}: ${e.message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        errors.push(new ConfigError(e.message, { location: at(d.path), hint: e.hint }));
      }
    }
  });
  // Fixed params (no space) are checked by the stage once.
  if (!dims.length)
    s.pipeline.forEach((stage, j) => {
      const [name, params] = Object.entries(stage)[0]!;
      for (const e of validateStage(name, params as Record<string, ParamValue>, ''))
        errors.push(new ConfigError(e.message, { location: at([...base, 'pipeline', j, name]), hint: e.hint }));
    });
}

function checkObjective(s: WrittenSearch, base: PathSegment[], at: At, errors: ConfigError[]): SearchMetric[] {
  const { weights, key } = objectiveOf(s.objective);
  const out: SearchMetric[] = [];
  for (const m of Object.keys(weights)) {
    if (m in SEARCH_METRICS) {
      out.push(m as SearchMetric);
      continue;
    }
    const near = didYouMean(m, SEARCH_METRIC_NAMES);
    const single = typeof (s.objective as Record<string, unknown>)[key] === 'string';
    errors.push(
      new ConfigError(`unknown metric '${m}'${near ? `; did you mean '${near}'?` : ''}`, {
        location: at([...base, 'objective', key], single ? undefined : m),
        hint: `expected one of ${SEARCH_METRIC_NAMES.join(', ')}`,
      }),
    );
  }
  return out;
}

/**
 * The `search:` checks: names, objective, constraints (each error at its column in the file),
 * spaces and their bounds, one baseline, and a validation split when accuracy or loss is named.
 */
export function checkSearches(w: ReadExperiment, at: At, atText: AtText, layers: string[] | undefined): ConfigError[] {
  const errors: ConfigError[] = [];
  const searches = writtenSearches(w);
  if (!searches.length && !w.sweeps?.length)
    errors.push(new ConfigError(`missing required key 'sweeps' (or 'search')`, { location: at([]) }));
  const names = new Set((w.sweeps ?? []).map((s) => s.name));
  let validationNeeded: PathSegment[] | undefined;
  searches.forEach((s, i) => {
    const base = searchPath(w, i);
    if (names.has(s.name) || names.has('baseline') || s.name === 'baseline')
      errors.push(
        new ConfigError(`search name '${s.name}' is already a sweep's name (or 'baseline')`, {
          location: at([...base, 'name']),
        }),
      );
    names.add(s.name);
    const metrics = checkObjective(s, base, at, errors);
    if (metrics.some((m) => m === 'accuracy' || m === 'loss')) validationNeeded ??= [...base, 'objective'];
    (s.constraints ?? []).forEach((text, k) => {
      try {
        const c = parseConstraint(text);
        if (c.diff.terms.some((t) => t.metric === 'accuracy' || t.metric === 'loss'))
          validationNeeded ??= [...base, 'constraints', k];
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        errors.push(new ConfigError(e.message, { location: atText([...base, 'constraints', k], e.column) }));
      }
    });
    if (layers) checkPipeline(s, base, layers, at, errors);
  });
  if (!searches.length) return errors;
  const seeds = seedsOf(w);
  if (seeds.length > 1)
    errors.push(
      new ConfigError(`a search runs on one baseline; seeds has ${seeds.length}`, {
        location: at(w.seeds ? ['seeds'] : ['repeats']),
        hint: 'search one seed, then rerun the chosen model with more seeds as a sweep',
      }),
    );
  for (const [field, v] of Object.entries(w.train ?? {}))
    if (typeof v === 'object' && v !== null)
      errors.push(
        new ConfigError(`a search runs on one baseline; train.${field} is an axis`, { location: at(['train', field]) }),
      );
  const split = w.train?.validationSplit;
  if (validationNeeded && !(typeof split === 'number' && split > 0))
    errors.push(
      new ConfigError(
        'a search checks accuracy and loss on a validation split, never on test: set train.validationSplit (e.g. 0.1)',
        { location: at(validationNeeded) },
      ),
    );
  return errors;
}

/** Defaults filled in, constraints and objective parsed (the file was checked by `checkSearches`). */
export function normalizeSearches(w: ReadExperiment): SearchSpec[] {
  const seed = seedsOf(w)[0]!;
  return writtenSearches(w).map((s) => ({
    name: s.name,
    objective: parseObjective(s.objective),
    constraints: (s.constraints ?? []).map((c): Constraint => parseConstraint(c)),
    pipeline: s.pipeline,
    budget: {
      trials: s.budget?.trials ?? SEARCH_DEFAULTS.trials,
      ...(s.budget?.minutes ? { minutes: s.budget.minutes } : {}),
    },
    strategy: s.strategy ?? SEARCH_DEFAULTS.strategy,
    batch: s.batch ?? SEARCH_DEFAULTS.batch,
    seed: s.seed ?? seed,
  }));
}
