import { ConfigError, didYouMean, type SourceLocation } from '@squash/core';
import { modelRegistry, modelSpecProblems, type ModelSpec } from '@squash/trainer/specs';
import type { ExpandedSweep } from '../grid/expand.js';
import { findModel } from '../grid/layers.js';
import { modelParamOf, stageNames, stageRegistry } from '../stages/registry.js';
import { gridRule } from './grid_rules.js';
import { stageTrainingRule, trainRule } from './train_rules.js';
import type { PathSegment } from './locate.js';
import type { ReadExperiment } from './types.js';
import { writtenSearches } from '../search/spec.js';

export { matchesLayer } from './grid_rules.js';

type At = (path: PathSegment[], key?: string) => SourceLocation;
/** A named check; `grid` is every sweep expanded (`expandSweeps`), done once for all rules and for planning. */
type Rule = (w: ReadExperiment, at: At, errors: ConfigError[], grid: ExpandedSweep[]) => void;

/** Sweep names identify rows in reports, so two sweeps may not share one. */
const uniqueSweepNames: Rule = (w, at, errors) => {
  const seen = new Map<string, number>();
  // A search's candidates follow the file's sweeps and share their search's name.
  w.sweeps.slice(0, w.sweeps.length - (w.candidates?.length ?? 0)).forEach((s, i) => {
    if (seen.has(s.name)) {
      errors.push(
        new ConfigError(`duplicate sweep name '${s.name}' (also sweeps[${seen.get(s.name)}])`, {
          location: at(['sweeps', i, 'name']),
        }),
      );
    } else seen.set(s.name, i);
  });
};

/** `repeats: N` is seeds 1…N, so it cannot be combined with `seeds:`; a seed listed twice is a typo. */
const seedsRule: Rule = (w, at, errors) => {
  if (w.seeds && w.repeats !== undefined) {
    errors.push(
      new ConfigError(`give 'seeds' or 'repeats', not both`, {
        location: at(['repeats']),
        hint: `repeats: ${w.repeats} means seeds: [1..${w.repeats}]`,
      }),
    );
  }
  w.seeds?.forEach((s, k) => {
    const first = w.seeds!.indexOf(s);
    if (first !== k)
      errors.push(new ConfigError(`duplicate seed ${s} (also seeds[${first}])`, { location: at(['seeds', k]) }));
  });
};

/** `model:` and every model a stage names (a distillation `student:`) must be built in or from `models:`. */
const knownModels: Rule = (w, at, errors) => {
  const known = [...modelRegistry.names(), ...Object.keys(w.models ?? {})];
  const check = (name: unknown, path: PathSegment[]) => {
    if (typeof name !== 'string' || findModel(name, w.models)) return;
    const near = didYouMean(name, known);
    errors.push(
      new ConfigError(`unknown model '${name}'${near ? `; did you mean '${near}'?` : ''}`, {
        location: at(path),
        hint: `known: ${known.join(', ')}`,
      }),
    );
  };
  const models = (value: unknown, path: PathSegment[]) =>
    Array.isArray(value) ? value.forEach((n, k) => check(n, [...path, k])) : check(value, path);
  check(w.model, ['model']);
  for (const name of stageNames()) {
    const param = modelParamOf(name);
    if (param) models(w.defaults?.[name]?.[param], ['defaults', name, param]);
  }
  w.sweeps.forEach((sweep, i) =>
    sweep.stages.forEach((stage, j) => {
      const [name, params] = Object.entries(stage)[0] ?? [];
      const param = name === undefined ? undefined : modelParamOf(name);
      if (param && params) models(params[param], ['sweeps', i, 'stages', j, name!, param]);
    }),
  );
};

/** An inline `model:` and every entry of `models:` must be a model the trainer can build (layer fields, layer order). */
const inlineModels: Rule = (w, at, errors) => {
  const check = (spec: ModelSpec, path: PathSegment[]) => {
    for (const p of modelSpecProblems(spec))
      errors.push(new ConfigError(p.message, { location: at([...path, ...p.path], p.key) }));
  };
  // A model read from a file was checked against the file itself (its errors name model.json).
  if (typeof w.model === 'object' && w.model && !w.model.source) check(w.model, ['model']);
  for (const [name, spec] of Object.entries(w.models ?? {})) if (!spec.source) check(spec, ['models', name]);
};

/** Stages that replace the model (a student, fewer units) must come before stages that transform its weights. */
const topologyFirst: Rule = (w, at, errors) => {
  const config = (name: string) => (stageRegistry.has(name) ? stageRegistry.get(name) : undefined);
  w.sweeps.forEach((sweep, i) => {
    let seen: string | undefined;
    sweep.stages.forEach((stage, j) => {
      const name = Object.keys(stage)[0]!;
      if (config(name)?.replacesModel && seen) {
        errors.push(
          new ConfigError(`'${name}' replaces the model, so it must come before '${seen}'`, {
            location: at(['sweeps', i, 'stages', j]),
          }),
        );
      }
      if (config(name)?.transformsWeights) seen ??= name;
    });
  });
};

/** Semantic checks after the schema: every problem, each located; grid expansion and per-point checks in grid_rules.ts. */
/** A reference row's sweep must be one of the file's (or `baseline`). */
const referenceSweeps: Rule = (w, at, errors) => {
  const names = ['baseline', ...new Set([...w.sweeps.map((s) => s.name), ...writtenSearches(w).map((s) => s.name)])];
  (w.reference?.rows ?? []).forEach((row, i) => {
    if (row.sweep === undefined || names.includes(row.sweep)) return;
    const near = didYouMean(row.sweep, names);
    errors.push(
      new ConfigError(`unknown sweep '${row.sweep}'${near ? `; did you mean '${near}'?` : ''}`, {
        location: at(['reference', 'rows', i, 'sweep']),
        hint: `sweeps: ${names.join(', ')}`,
      }),
    );
  });
};

const RULES: Rule[] = [
  referenceSweeps,
  knownModels,
  inlineModels,
  seedsRule,
  uniqueSweepNames,
  trainRule,
  gridRule,
  stageTrainingRule,
  topologyFirst,
];

export function checkRules(w: ReadExperiment, at: At, grid: ExpandedSweep[]): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const rule of RULES) rule(w, at, errors, grid);
  const seen = new Set<string>();
  return errors.filter((e) => !seen.has(e.describe()) && seen.add(e.describe()));
}
