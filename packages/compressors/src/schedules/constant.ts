import type { ConfigError } from '@squash/core';
import { checkStep, FREQUENCY, RETENTION, STEP, throwAll, validateConfig, type PruningSchedule } from './schedule.js';

const SPEC = { retention: RETENTION, beginStep: STEP, frequency: FREQUENCY };

/**
 * The same retention at every pruning step: active at `beginStep` and every `frequency` steps
 * after (TF-MOT's ConstantSparsity, without an end step). Before `beginStep` nothing is pruned;
 * `retention` is reported at every step so a caller can show the target.
 */
export class ConstantRetention implements PruningSchedule {
  static readonly kind = 'constant';

  static validate(config: Record<string, unknown>, path = ''): ConfigError[] {
    return validateConfig(SPEC, config, path);
  }

  constructor(
    readonly retention: number,
    readonly beginStep = 0,
    readonly frequency = 1,
  ) {
    throwAll(ConstantRetention.validate({ retention, beginStep, frequency }));
  }

  at(step: number): { active: boolean; retention: number } {
    checkStep(ConstantRetention.kind, step);
    const active = step >= this.beginStep && (step - this.beginStep) % this.frequency === 0;
    return { active, retention: this.retention };
  }

  toJSON() {
    return {
      kind: ConstantRetention.kind,
      config: { retention: this.retention, beginStep: this.beginStep, frequency: this.frequency },
    };
  }
}
