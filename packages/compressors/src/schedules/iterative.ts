import { ConfigError } from '@squash/core';
import { checkStep, throwAll, type PruningSchedule } from './schedule.js';

/**
 * Iterative pruning (Han et al. 2015): round i — step i — prunes to `retentions[i]`, and the
 * trainer retrains between rounds. Retentions must be non-increasing, each in (0, 1]: a round
 * cannot revive weights pruned by an earlier one. After the last round the last retention holds
 * and nothing is active.
 */
export class IterativeRetention implements PruningSchedule {
  static readonly kind = 'iterative';
  readonly retentions: readonly number[];

  static validate(config: Record<string, unknown>, path = ''): ConfigError[] {
    const at = (suffix: string) => ({ location: { path: `${path ? `${path}.` : ''}config.retentions${suffix}` } });
    const known = ['retentions'];
    const errors: ConfigError[] = Object.keys(config)
      .filter((k) => !known.includes(k))
      .map(
        (k) =>
          new ConfigError(`unknown parameter '${k}'; expected one of: retentions`, {
            location: { path: `${path ? `${path}.` : ''}config.${k}` },
          }),
      );
    const rs = config.retentions;
    if (!Array.isArray(rs) || rs.length === 0) {
      errors.push(
        new ConfigError(
          `retentions must be a non-empty array of numbers in (0, 1], got ${JSON.stringify(rs) ?? 'nothing'}`,
          at(''),
        ),
      );
      return errors;
    }
    rs.forEach((r, i) => {
      if (typeof r !== 'number' || !(r > 0 && r <= 1)) {
        errors.push(new ConfigError(`retentions[${i}] must be in (0, 1], got ${JSON.stringify(r)}`, at(`[${i}]`)));
      } else if (i > 0 && typeof rs[i - 1] === 'number' && r > rs[i - 1]) {
        errors.push(
          new ConfigError(
            `retentions must be non-increasing: retentions[${i}] = ${r} > retentions[${i - 1}] = ${rs[i - 1]}`,
            at(`[${i}]`),
          ),
        );
      }
    });
    return errors;
  }

  /**
   * Han et al.'s schedule: `rounds` rounds ending at `final`, round i (1-based) keeping
   * final^(i/rounds), so every round removes the same fraction of the weights still kept.
   */
  static geometric(final: number, rounds: number): IterativeRetention {
    if (!Number.isInteger(rounds) || rounds < 1)
      throw new RangeError(`${IterativeRetention.kind}: rounds must be an integer >= 1, got ${rounds}`);
    return new IterativeRetention(Array.from({ length: rounds }, (_, i) => final ** ((i + 1) / rounds)));
  }

  constructor(retentions: number[]) {
    throwAll(IterativeRetention.validate({ retentions }));
    this.retentions = Object.freeze([...retentions]);
  }

  at(step: number): { active: boolean; retention: number } {
    checkStep(IterativeRetention.kind, step);
    const n = this.retentions.length;
    return { active: step < n, retention: this.retentions[Math.min(step, n - 1)] };
  }

  toJSON() {
    return { kind: IterativeRetention.kind, config: { retentions: [...this.retentions] } };
  }
}
