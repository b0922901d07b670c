import type { ConfigError } from '@squash/core';
import type { ParamSpec } from '../compressor.js';
import {
  checkStep,
  FREQUENCY,
  RETENTION,
  ruleError,
  STEP,
  throwAll,
  validateConfig,
  type PruningSchedule,
} from './schedule.js';

const SPEC: Record<string, ParamSpec> = {
  initialRetention: { ...RETENTION, description: 'fraction kept at beginStep (1 − s_i)' },
  finalRetention: { ...RETENTION, description: 'fraction kept from endStep on (1 − s_f)' },
  beginStep: { ...STEP, required: true, description: 't0, the first pruning step' },
  endStep: { type: 'integer', minimum: 1, required: true, description: 't0 + n·Δt, the last pruning step' },
  frequency: FREQUENCY,
  exponent: { type: 'number', exclusiveMinimum: 0, description: 'the power of the decay (default 3)' },
};

export interface PolynomialDecayConfig {
  initialRetention: number;
  finalRetention: number;
  beginStep: number;
  endStep: number;
  frequency?: number;
  exponent?: number;
}

/**
 * Gradual pruning (Zhu & Gupta 2017, "To prune, or not to prune"). With sparsity s = 1 − retention,
 * initial sparsity s_i, final s_f, first pruning step t0 = beginStep, Δt = frequency and
 * n = (endStep − beginStep) / Δt pruning steps after the first:
 *
 *   s_t = s_f + (s_i − s_f) · (1 − (t − t0) / (n·Δt))^exponent   for t ∈ {t0, t0 + Δt, …, t0 + n·Δt}
 *
 * computed as retention r_t = r_f + (r_i − r_f) · (1 − (t − t0) / (n·Δt))^exponent (the same
 * thing, without rounding 1 − (1 − r)), exponent 3 as in the paper. `at(t)` is active exactly at
 * those steps; before t0 it reports r_i, after endStep r_f, both inactive. The cube prunes fast
 * while many redundant weights remain and slowly as the network approaches its final sparsity.
 *
 * endStep − beginStep must be a positive multiple of frequency, so that the last pruning step
 * is endStep and the final retention is actually reached (TF-MOT's PolynomialDecay allows any
 * end and then may never prune at it).
 */
export class PolynomialDecay implements PruningSchedule {
  static readonly kind = 'polynomial-decay';
  readonly initialRetention: number;
  readonly finalRetention: number;
  readonly beginStep: number;
  readonly endStep: number;
  readonly frequency: number;
  readonly exponent: number;

  static validate(config: Record<string, unknown>, path = ''): ConfigError[] {
    const errors = validateConfig(SPEC, config, path);
    if (errors.length) return errors;
    const c = config as unknown as PolynomialDecayConfig;
    const frequency = c.frequency ?? 1;
    if (c.finalRetention > c.initialRetention) {
      errors.push(
        ruleError(
          path,
          'finalRetention',
          `finalRetention must be <= initialRetention (${c.initialRetention}), got ${c.finalRetention}`,
        ),
      );
    }
    if (c.endStep <= c.beginStep) {
      errors.push(ruleError(path, 'endStep', `endStep must be > beginStep (${c.beginStep}), got ${c.endStep}`));
    } else if ((c.endStep - c.beginStep) % frequency !== 0) {
      errors.push(
        ruleError(
          path,
          'endStep',
          `endStep − beginStep must be a multiple of frequency (${frequency}), got ${c.endStep} − ${c.beginStep} = ${c.endStep - c.beginStep}`,
        ),
      );
    }
    return errors;
  }

  constructor(config: PolynomialDecayConfig) {
    throwAll(PolynomialDecay.validate({ ...config }));
    this.initialRetention = config.initialRetention;
    this.finalRetention = config.finalRetention;
    this.beginStep = config.beginStep;
    this.endStep = config.endStep;
    this.frequency = config.frequency ?? 1;
    this.exponent = config.exponent ?? 3;
  }

  at(step: number): { active: boolean; retention: number } {
    checkStep(PolynomialDecay.kind, step);
    if (step < this.beginStep) return { active: false, retention: this.initialRetention };
    if (step > this.endStep) return { active: false, retention: this.finalRetention };
    const progress = (step - this.beginStep) / (this.endStep - this.beginStep);
    const r = this.finalRetention + (this.initialRetention - this.finalRetention) * (1 - progress) ** this.exponent;
    return { active: (step - this.beginStep) % this.frequency === 0, retention: r };
  }

  toJSON() {
    const { initialRetention, finalRetention, beginStep, endStep, frequency, exponent } = this;
    return {
      kind: PolynomialDecay.kind,
      config: { initialRetention, finalRetention, beginStep, endStep, frequency, exponent },
    };
  }
}
