import type { TrainingParams } from '../pipeline/finetune.js';
import { batchSize, epochs, iterations, learningRate } from './params.js';
import { defineTrainingStage, seedOffset } from './stage.js';

/** Hinton et al. 2015: a new student learns from the baseline (teacher); later stages compress it. */
export const distillConfig = defineTrainingStage({
  name: 'distill',
  description:
    "Hinton et al. 2015: trains a new student model (a named model) from the experiment's trained baseline as teacher; later stages compress the student.",
  params: {
    student: {
      type: 'string',
      required: true,
      description: "name of the student model (built in, or from the experiment's `models:`)",
    },
    temperature: { type: 'number', exclusiveMinimum: 0, default: 4, description: 'softmax temperature T (default 4)' },
    alpha: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.7,
      description: 'weight of the soft (teacher) loss; 1 − alpha weighs the labels (default 0.7)',
    },
    epochs,
    iterations,
    learningRate: {
      ...learningRate,
      description: 'base learning rate of the optimizer, varied per step by schedule (default: the baseline rate)',
    },
    batchSize,
  },
  replacesModel: true,
  transformsWeights: false,
  modelParam: 'student',
  async apply(state, ctx, stage, index) {
    const [{ buildModel, getWeights, setWeights }, { runFinetune }, { foldedModel }, { sourceWeights }] =
      await Promise.all([
        import('@squash/trainer'),
        import('../pipeline/finetune.js'),
        import('../pipeline/fold.js'),
        import('../model_source.js'),
      ]);
    const p = stage.params as unknown as TrainingParams & { student: string; temperature: number; alpha: number };
    const spec = ctx.resolveModel(p.student);
    const student = buildModel(spec, ctx.data.inputShape, ctx.seed, ctx.train.init);
    // A student read from a file starts from its weights (init: random, from fresh ones).
    if (spec.source && spec.source.init !== 'random') setWeights(student, sourceWeights(spec.source));
    state.model.dispose();
    state.model = student;
    state.spec = spec;
    state.masks.clear();
    state.quantized.clear();
    // A student trains from scratch: the baseline's rate, not the retraining rate.
    await runFinetune(state, ctx, { ...p, learningRate: p.learningRate ?? ctx.train.learningRate }, seedOffset(index), {
      distill: { teacher: ctx.teacher, temperature: p.temperature, alpha: p.alpha },
    });
    // The trained student's batch norms fold like the baseline's did: later stages see it as deployed.
    const folded = foldedModel(state.spec, getWeights(state.model), ctx.data.inputShape, ctx.seed);
    state.model.dispose();
    state.model = folded.model;
    state.spec = folded.spec;
  },
});
