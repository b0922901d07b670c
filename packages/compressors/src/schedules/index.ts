import { ConfigError, didYouMean } from '@squash/core';
import { IterativeRetention } from './iterative.js';
import { PolynomialDecay, type PolynomialDecayConfig } from './polynomial_decay.js';
import { throwAll, type PruningSchedule } from './schedule.js';

export type { PruningSchedule } from './schedule.js';
export { IterativeRetention, PolynomialDecay, type PolynomialDecayConfig };

export const SCHEDULE_KINDS = [PolynomialDecay.kind, IterativeRetention.kind] as const;

/**
 * Every problem with a schedule's JSON ({ kind, config }) at once, each located under `path`
 * (e.g. `sweeps[0].stages[1].schedule.config.endStep`); empty when valid.
 */
export function validateSchedule(json: unknown, path = ''): ConfigError[] {
  const at = (p: string) => ({ location: { path: path ? `${path}.${p}` : p } });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return [
      new ConfigError(`a schedule must be an object { kind, config }, got ${JSON.stringify(json) ?? 'nothing'}`, {
        location: { path },
      }),
    ];
  }
  const { kind, config = {}, ...rest } = json as Record<string, unknown>;
  const errors = Object.keys(rest).map(
    (k) => new ConfigError(`unknown schedule field '${k}'; expected kind, config`, at(k)),
  );
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    errors.push(new ConfigError(`config must be an object, got ${JSON.stringify(config)}`, at('config')));
    return errors;
  }
  const c = config as Record<string, unknown>;
  switch (kind) {
    case PolynomialDecay.kind:
      return [...errors, ...PolynomialDecay.validate(c, path)];
    case IterativeRetention.kind:
      return [...errors, ...IterativeRetention.validate(c, path)];
    default: {
      const near = typeof kind === 'string' ? didYouMean(kind, [...SCHEDULE_KINDS]) : undefined;
      errors.push(
        new ConfigError(`kind must be one of: ${SCHEDULE_KINDS.join(', ')}, got ${JSON.stringify(kind) ?? 'nothing'}`, {
          ...at('kind'),
          hint: near ? `did you mean '${near}'?` : undefined,
        }),
      );
      return errors;
    }
  }
}

/** Builds a schedule from its `toJSON()` form; throws the problems `validateSchedule` finds. */
export function scheduleFromJSON(json: unknown, path = ''): PruningSchedule {
  throwAll(validateSchedule(json, path));
  const { kind, config = {} } = json as { kind: string; config?: Record<string, unknown> };
  switch (kind) {
    case PolynomialDecay.kind:
      return new PolynomialDecay(config as unknown as PolynomialDecayConfig);
    default:
      return new IterativeRetention((config as { retentions: number[] }).retentions);
  }
}
