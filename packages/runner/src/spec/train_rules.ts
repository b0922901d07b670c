import { ConfigError, type ParamValue, type SourceLocation } from '@squash/core';
import { optimizerSettingsProblems } from '@squash/trainer/specs';
import type { ExpandedSweep } from '../grid/expand.js';
import { expandTrain } from '../grid/train.js';
import { getStage, stageRegistry } from '../stages/registry.js';
import { optimizerFieldsOf, stageOptimizerSettings } from '../train_settings.js';
import { stageCombos, valuePath } from './grid_rules.js';
import type { PathSegment } from './locate.js';
import type { ReadExperiment, TrainSpec } from './types.js';

type At = (path: PathSegment[], key?: string) => SourceLocation;

type Problem = { field: string; message: string };
const same = (a: Problem) => (b: Problem) => a.field === b.field && a.message === b.message;

/**
 * `train:`: its axes expand (ranges, values in range), epochs and iterations are not both given,
 * and every baseline's optimizer settings hold together (`optimizerSettingsProblems`), each
 * problem at the field it names (its list element, when that field is an axis).
 */
export function trainRule(w: ReadExperiment, at: At, errors: ConfigError[]): void {
  const train = expandTrain(w.train ?? {});
  for (const p of train.problems)
    errors.push(new ConfigError(p.message, { location: at(p.path, p.key), hint: p.hint }));
  if (w.train?.epochs !== undefined && w.train.iterations !== undefined) {
    errors.push(
      new ConfigError('give epochs or iterations, not both', {
        location: at(['train', 'iterations']),
        hint: 'iterations trains exactly that many optimizer steps, whatever the epochs',
      }),
    );
  }
  const axisOf = (field: string) => train.axes.find((a) => a.field === field);
  for (const point of train.points) {
    for (const p of optimizerSettingsProblems(optimizerFieldsOf(point.train))) {
      const axis = axisOf(p.field);
      const v = point.train[p.field as keyof TrainSpec];
      errors.push(
        new ConfigError(p.message, {
          location: at(axis && v !== undefined ? valuePath(axis, v) : ['train', p.field]),
          hint: whereOnAxes(point.axes),
        }),
      );
    }
  }
}

/**
 * Every training stage's optimizer settings as they run, its own fields over each baseline's
 * (`stageOptimizerSettings`), hold together. A problem the `train:` block has by itself is
 * reported there once; one the stage brings is located at the stage's param (a field it inherits:
 * at the param it would write, saying where the value comes from).
 */
export function stageTrainingRule(w: ReadExperiment, at: At, errors: ConfigError[], grid: ExpandedSweep[]): void {
  const train = expandTrain(w.train ?? {});
  if (train.problems.length) return;
  grid.forEach((x, i) => {
    if (!x.points.length) return;
    w.sweeps[i]!.stages.forEach((stage, j) => {
      const name = Object.keys(stage)[0]!;
      if (!stageRegistry.has(name) || !getStage(name).trains) return;
      const stagePath: PathSegment[] = ['sweeps', i, 'stages', j, name];
      const axisOf = (param: string) => x.axes.find((a) => a.stage === j && a.param === param && !a.isLayer);
      for (const combo of stageCombos(x, j)) {
        for (const point of train.points) {
          const own = optimizerSettingsProblems(optimizerFieldsOf(point.train));
          for (const p of optimizerSettingsProblems(stageOptimizerSettings(point.train, combo))) {
            if (own.some(same(p))) continue;
            const axis = combo[p.field] !== undefined ? axisOf(p.field) : undefined;
            const inherited = !axis && train.axes.some((a) => a.field === p.field);
            const hints = [inherited && `${p.field} is inherited from train.${p.field}`, whereOnAxes(point.axes)];
            errors.push(
              new ConfigError(p.message, {
                location: axis ? at(valuePath(axis, combo[p.field]!)) : at(stagePath, p.field),
                hint: hints.filter(Boolean).join('; ') || undefined,
              }),
            );
          }
        }
      }
    });
  });
}

/** Which baseline a problem is about, when `train:` has axes: `with train learningRate=0.1, momentum=0`. */
function whereOnAxes(axes: Record<string, ParamValue>): string | undefined {
  const values = Object.entries(axes).map(([k, v]) => `${k}=${v}`);
  return values.length ? `with train ${values.join(', ')}` : undefined;
}
