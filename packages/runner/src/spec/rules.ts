import { ConfigError, type ParamValue, type SourceLocation } from '@squash/core';
import { compressorRegistry } from '@squash/compressors';
import type { PathSegment } from './locate.js';
import type { WrittenExperiment } from './types.js';

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
      const compressor = compressorRegistry.get(name);
      const axes = Object.entries(params);
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
        for (const e of compressor.validate(one, '')) {
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

const RULES: Rule[] = [uniqueSweepNames, compressorParams];

export function checkRules(w: WrittenExperiment, at: At): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const rule of RULES) rule(w, at, errors);
  const seen = new Set<string>();
  return errors.filter((e) => !seen.has(e.describe()) && seen.add(e.describe()));
}
