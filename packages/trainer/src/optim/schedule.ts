import { parseMilestones, resolveOptimizerSettings, type OptimizerSettings } from './settings.js';

/**
 * The learning rate of optimizer step `step` (0-based: the first update uses step 0, as Caffe's
 * `iter`), out of `totalSteps` in this training. Formulas and sources: README, "Optimizers and
 * schedules".
 */
export function learningRateAt(
  baseRate: number,
  written: Partial<OptimizerSettings>,
  step: number,
  totalSteps: number,
): number {
  const s = resolveOptimizerSettings(written);
  let lr: number;
  switch (s.schedule) {
    case 'constant':
      lr = baseRate;
      break;
    case 'step':
      lr = baseRate * (s.gamma ?? 0.1) ** Math.floor(step / s.stepSize!);
      break;
    case 'multistep': {
      const m = parseMilestones(s.milestones ?? '');
      const passed = typeof m === 'string' ? 0 : m.filter((x) => x <= step).length;
      lr = baseRate * (s.gamma ?? 0.1) ** passed;
      break;
    }
    case 'inv':
      lr = baseRate * (1 + (s.gamma ?? 1e-4) * step) ** -s.power;
      break;
    case 'cosine': {
      // Annealed over the steps after warmup (Loshchilov & Hutter 2017, without restarts).
      const span = Math.max(1, totalSteps - s.warmupSteps - 1);
      const t = Math.min(Math.max(0, step - s.warmupSteps), span);
      lr = s.minLearningRate + (baseRate - s.minLearningRate) * 0.5 * (1 + Math.cos((Math.PI * t) / span));
      break;
    }
  }
  if (step < s.warmupSteps) lr *= (step + 1) / s.warmupSteps;
  return lr;
}
