import type { ParamSpec } from '@squash/compressors';

/**
 * How a model is trained, beyond epochs and batch size: the optimizer, its learning-rate schedule,
 * weight decay, gradient clipping and label smoothing. Declared once here; the experiment schema
 * (`train:` and every training stage's params), trial ids (a field at its default is left out)
 * and the trainer all read this table. Pure: no TensorFlow.js.
 */
export const OPTIMIZERS = ['adam', 'adamw', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const LR_SCHEDULES = ['constant', 'step', 'multistep', 'cosine', 'inv'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

export interface OptimizerSettings {
  optimizer: OptimizerName;
  /** SGD: heavy-ball momentum μ (0 = plain SGD). */
  momentum: number;
  /** SGD: Nesterov momentum (needs momentum > 0). */
  nesterov: boolean;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** sgd, adam: L2 added to the gradient (g + λ·w); adamw: decoupled (w −= lr·λ·w). */
  weightDecay: number;
  schedule: LrSchedule;
  /** step, multistep: the factor per decay (default 0.1); inv: γ (default 1e-4, Caffe's LeNet solver). */
  gamma?: number;
  /** inv: the power (default 0.75, Caffe's LeNet solver). */
  power: number;
  /** step: optimizer steps between decays. */
  stepSize?: number;
  /** multistep: the optimizer steps at which the rate is multiplied by gamma, "s1,s2,…" ascending. */
  milestones?: string;
  /** Linear warmup from lr/warmupSteps to lr over the first steps, then the schedule (0 = none). */
  warmupSteps: number;
  /** cosine: the rate it ends at. */
  minLearningRate: number;
  /** Scale all gradients together so their global L2 norm is at most this (0 = off). */
  gradClipNorm: number;
  /** ε of label smoothing: targets (1 − ε)·onehot + ε/K (0 = off). */
  labelSmoothing: number;
}

const nonNegative = (description: string, def: number): ParamSpec => ({
  type: 'number',
  minimum: 0,
  default: def,
  description,
});

/** The one declaration of each field: type, range, default and what it means. */
export const OPTIMIZER_FIELDS: Record<keyof OptimizerSettings, ParamSpec> = {
  optimizer: {
    type: 'string',
    enum: [...OPTIMIZERS],
    default: 'adam',
    description: 'adam, adamw (decoupled weight decay) or sgd (with momentum and nesterov)',
  },
  momentum: { type: 'number', minimum: 0, maximum: 0.9999, default: 0, description: 'sgd: momentum μ' },
  nesterov: { type: 'boolean', default: false, description: 'sgd: Nesterov momentum (needs momentum > 0)' },
  beta1: { type: 'number', minimum: 0, maximum: 0.9999, default: 0.9, description: 'adam, adamw: β1' },
  beta2: { type: 'number', minimum: 0, maximum: 0.999999, default: 0.999, description: 'adam, adamw: β2' },
  epsilon: { type: 'number', exclusiveMinimum: 0, default: 1e-7, description: "adam, adamw: ε (tfjs' default)" },
  weightDecay: nonNegative('λ: sgd, adam add λ·w to the gradient (L2); adamw decays the weights by lr·λ·w', 0),
  schedule: {
    type: 'string',
    enum: [...LR_SCHEDULES],
    default: 'constant',
    description: 'learning-rate schedule over optimizer steps: constant, step, multistep, cosine or inv',
  },
  gamma: {
    type: 'number',
    exclusiveMinimum: 0,
    description: 'step, multistep: factor per decay (default 0.1); inv: γ (default 1e-4)',
  },
  power: nonNegative('inv: lr · (1 + γ·step)^−power', 0.75),
  stepSize: { type: 'integer', minimum: 1, description: 'step: optimizer steps between decays (required)' },
  milestones: {
    type: 'string',
    description: "multistep: ascending optimizer steps where lr is multiplied by gamma, e.g. '5000,8000' (required)",
  },
  warmupSteps: {
    type: 'integer',
    minimum: 0,
    default: 0,
    description: 'linear warmup over the first steps (0 = none)',
  },
  minLearningRate: nonNegative('cosine: the rate at the last step', 0),
  gradClipNorm: nonNegative('clip the global L2 norm of all gradients to this (0 = off)', 0),
  labelSmoothing: {
    type: 'number',
    minimum: 0,
    maximum: 0.99,
    default: 0,
    description: 'ε: cross-entropy against (1 − ε)·onehot + ε/classes (0 = off)',
  },
};

export const OPTIMIZER_FIELD_NAMES = Object.keys(OPTIMIZER_FIELDS) as Array<keyof OptimizerSettings>;

/** Every field with its default filled in (gamma, stepSize, milestones stay as written). */
export function resolveOptimizerSettings(written: Partial<OptimizerSettings> = {}): OptimizerSettings {
  const out: Record<string, unknown> = {};
  for (const name of OPTIMIZER_FIELD_NAMES) {
    const v = written[name] ?? OPTIMIZER_FIELDS[name].default;
    if (v !== undefined) out[name] = v;
  }
  return out as unknown as OptimizerSettings;
}

/** The written fields that are not at their default: what ids hash (writing a default is the same trial). */
export function canonicalOptimizerSettings(written: Partial<OptimizerSettings>): Partial<OptimizerSettings> {
  const out: Record<string, unknown> = {};
  for (const name of OPTIMIZER_FIELD_NAMES) {
    const v = written[name];
    if (v !== undefined && v !== OPTIMIZER_FIELDS[name].default) out[name] = v;
  }
  return out as Partial<OptimizerSettings>;
}

/** Milestones as numbers, or why they are not valid. */
export function parseMilestones(text: string): number[] | string {
  const parts = text.split(',').map((s) => s.trim());
  const steps = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || steps.some((s) => s < 1)) {
    return `expected ascending positive integers separated by commas (e.g. '5000,8000'), got '${text}'`;
  }
  if (steps.some((s, i) => i > 0 && s <= steps[i - 1]!)) return `expected ascending steps, got '${text}'`;
  return steps;
}

/**
 * Problems between fields (each field's own range is the schema's job): the field they concern
 * and what was expected. Run on the merged settings a training actually uses.
 */
export function optimizerSettingsProblems(s: Partial<OptimizerSettings>): Array<{ field: string; message: string }> {
  const r = resolveOptimizerSettings(s);
  const problems: Array<{ field: string; message: string }> = [];
  if (r.nesterov && !(r.momentum > 0)) problems.push({ field: 'nesterov', message: 'nesterov needs momentum > 0' });
  if (r.optimizer !== 'sgd' && (s.momentum !== undefined || s.nesterov !== undefined)) {
    const field = s.momentum !== undefined ? 'momentum' : 'nesterov';
    problems.push({ field, message: `${field} is an sgd setting; optimizer is ${r.optimizer}` });
  }
  if (r.schedule === 'step' && r.stepSize === undefined) {
    problems.push({ field: 'stepSize', message: "schedule 'step' needs stepSize (optimizer steps between decays)" });
  }
  if (r.schedule === 'multistep') {
    if (r.milestones === undefined) {
      problems.push({ field: 'milestones', message: "schedule 'multistep' needs milestones, e.g. '5000,8000'" });
    } else {
      const m = parseMilestones(r.milestones);
      if (typeof m === 'string') problems.push({ field: 'milestones', message: m });
    }
  }
  return problems;
}
