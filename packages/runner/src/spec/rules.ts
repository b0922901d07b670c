import { ConfigError, didYouMean, type ParamValue, type SourceLocation } from '@squash/core';
import { modelRegistry } from '@squash/trainer';
import { validateStage } from '../stages/registry.js';
import type { PathSegment } from './locate.js';
import type { LayerOverride, WrittenExperiment } from './types.js';

type At = (path: PathSegment[], key?: string) => SourceLocation;
type Rule = (w: WrittenExperiment, at: At, errors: ConfigError[]) => void;

/** Sweep names identify rows in reports, so two sweeps may not share one. */
const uniqueSweepNames: Rule = (w, at, errors) => {
  const seen = new Map<string, number>();
  w.sweeps.forEach((s, i) => {
    if (seen.has(s.name)) {
      errors.push(new ConfigError(`duplicate sweep name '${s.name}' (also sweeps[${seen.get(s.name)}])`, { location: at(['sweeps', i, 'name']) }));
    } else seen.set(s.name, i);
  });
};

/** Each value of every axis goes through the compressor's own checks (ranges it knows best). */
const compressorParams: Rule = (w, at, errors) => {
  w.sweeps.forEach((sweep, i) =>
    sweep.stages.forEach((stage, j) => {
      const [name, params] = Object.entries(stage)[0]!;
      const axes = Object.entries(params).filter(([k]) => k !== 'layers') as Array<[string, ParamValue | ParamValue[]]>;
      const width = Math.max(1, ...axes.map(([, v]) => (Array.isArray(v) ? v.length : 1)));
      for (let k = 0; k < width; k++) {
        // Shorter axes repeat their last value; the dedupe below drops the repeated errors.
        const one: Record<string, ParamValue> = {};
        const index: Record<string, number> = {};
        for (const [key, v] of axes) {
          if (Array.isArray(v)) {
            index[key] = Math.min(k, v.length - 1);
            one[key] = v[index[key]!]!;
          } else one[key] = v;
        }
        for (const e of validateStage(name, one, '')) {
          const key = e.location?.path?.replace(/^\./, '').split('.')[0] ?? '';
          const path: PathSegment[] = ['sweeps', i, 'stages', j, name];
          if (key) path.push(key);
          if (key && index[key] !== undefined) path.push(index[key]!);
          errors.push(new ConfigError(e.message, { location: at(path), hint: e.hint }));
        }
      }
    }),
  );
};

/** `*` matches any run of characters; everything else literally. */
export function matchesLayer(pattern: string, layer: string): boolean {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(layer);
}

function namedModel(w: WrittenExperiment, name: string) {
  return w.models?.[name] ?? (modelRegistry.has(name) ? modelRegistry.get(name) : undefined);
}

/** `model:` and every distillation `student:` must name a built-in model or one from `models:`. */
const knownModels: Rule = (w, at, errors) => {
  const known = [...modelRegistry.names(), ...Object.keys(w.models ?? {})];
  const check = (name: unknown, path: PathSegment[]) => {
    if (typeof name !== 'string' || namedModel(w, name)) return;
    const near = didYouMean(name, known);
    errors.push(new ConfigError(`unknown model '${name}'${near ? `; did you mean '${near}'?` : ''}`, { location: at(path), hint: `known: ${known.join(', ')}` }));
  };
  check(w.model, ['model']);
  w.sweeps.forEach((sweep, i) =>
    sweep.stages.forEach((stage, j) => {
      const d = stage.distill;
      if (!d) return;
      const names = Array.isArray(d.student) ? d.student : [d.student];
      names.forEach((n, k) => check(n, ['sweeps', i, 'stages', j, 'distill', 'student', ...(Array.isArray(d.student) ? [k] : [])]));
    }),
  );
};

function layerNames(w: WrittenExperiment): string[] {
  const spec = typeof w.model === 'string' ? namedModel(w, w.model) : w.model;
  let dense = 0;
  return (spec?.layers ?? []).flatMap((l) => (l.type === 'dense' ? [`dense_${++dense}`] : []));
}

/** Every override is checked with the stage's values it would be merged with, and must match a layer. */
const layerOverrides: Rule = (w, at, errors) => {
  const layers = layerNames(w);
  w.sweeps.forEach((sweep, i) =>
    sweep.stages.forEach((stage, j) => {
      const [name, params] = Object.entries(stage)[0]!;
      const overrides = params.layers as LayerOverride[] | undefined;
      if (!overrides) return;
      const base: Record<string, ParamValue> = {};
      for (const [k, v] of Object.entries(params)) if (k !== 'layers') base[k] = (Array.isArray(v) ? v[0] : v) as ParamValue;
      overrides.forEach((o, k) => {
        const path: PathSegment[] = ['sweeps', i, 'stages', j, name, 'layers', k];
        if (layers.length && !layers.some((l) => matchesLayer(o.match, l))) {
          const near = didYouMean(o.match, layers);
          errors.push(new ConfigError(`'${o.match}' matches no layer of the model${near ? `; did you mean '${near}'?` : ''}`, { location: at([...path, 'match']), hint: `layers: ${layers.join(', ')}` }));
        }
        const { match: _m, skip: _s, ...own } = o;
        for (const e of validateStage(name, { ...base, ...(own as Record<string, ParamValue>) }, '')) {
          const key = e.location?.path?.replace(/^\./, '').split('.')[0] ?? '';
          errors.push(new ConfigError(e.message, { location: at(key in own ? [...path, key] : path), hint: e.hint }));
        }
      });
    }),
  );
};

/** Stages that replace the model (a student, fewer units) must come before stages that transform its weights. */
const topologyFirst: Rule = (w, at, errors) => {
  const reshaping = new Set(['distill', 'prune-units']);
  const weightStages = new Set(['clip-weights', 'quantize-weights', 'prune-weights', 'prune-iterative', 'prune-gradual', 'finetune']);
  w.sweeps.forEach((sweep, i) => {
    let seen: string | undefined;
    sweep.stages.forEach((stage, j) => {
      const name = Object.keys(stage)[0]!;
      if (reshaping.has(name) && seen) {
        errors.push(new ConfigError(`'${name}' replaces the model, so it must come before '${seen}'`, { location: at(['sweeps', i, 'stages', j]) }));
      }
      if (weightStages.has(name)) seen ??= name;
    });
  });
};

const RULES: Rule[] = [knownModels, uniqueSweepNames, compressorParams, layerOverrides, topologyFirst];

export function checkRules(w: WrittenExperiment, at: At): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const rule of RULES) rule(w, at, errors);
  const seen = new Set<string>();
  return errors.filter((e) => !seen.has(e.describe()) && seen.add(e.describe()));
}
