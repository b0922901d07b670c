import type { ParamValue } from '@squash/core';
import { validateParams } from '@squash/compressors';
import type { PathSegment } from '../spec/locate.js';
import { TRAIN_FIELDS, type TrainFieldSpec } from '../spec/train_fields.js';
import type { TrainSpec, WrittenTrain, WrittenValue } from '../spec/types.js';
import type { GridProblem } from './axes.js';
import { expandValues, isValueExpr } from './values.js';

/** More baselines than this from one `train:` block is refused, as a sweep's points are. */
export const MAX_TRAIN_POINTS = 1000;

/** One field of `train:`: its values (one, or an axis). */
export interface TrainAxis {
  field: keyof TrainSpec;
  values: ParamValue[];
  /** Where it is written (`train.<field>`; a filled-in default is not written anywhere). */
  path: PathSegment[];
  /** Written as a list: value k sits at `[...path, k]`. */
  listed: boolean;
  /** Written as a list or range/linspace/logspace: its value names the baseline in labels. */
  isAxis: boolean;
}

/** One baseline's training settings, and the values of the axes that chose them. */
export interface TrainPoint {
  train: TrainSpec;
  /** Field → value of every `isAxis` field, in written order; empty without axes. */
  axes: Record<string, ParamValue>;
}

export interface ExpandedTrain {
  axes: TrainAxis[];
  points: TrainPoint[];
  problems: GridProblem[];
}

/** Why a value is outside its field's range, if it is. */
function valueProblem(field: string, spec: TrainFieldSpec, v: ParamValue): string | undefined {
  const e = validateParams({ [field]: spec }, { [field]: v }, '')[0];
  if (e) return e.message;
  if (spec.exclusiveMaximum !== undefined && typeof v === 'number' && !(v < spec.exclusiveMaximum))
    return `${field} must be < ${spec.exclusiveMaximum}, got ${v}`;
  return undefined;
}

/**
 * The baselines a `train:` block asks for: the cartesian product of its fields' values, the first
 * field written varying slowest (as a sweep's axes). Every value is checked against its field's
 * declaration; problems are located at `train.<field>` (its list element, when listed).
 */
export function expandTrain(train: WrittenTrain): ExpandedTrain {
  const axes: TrainAxis[] = [];
  const problems: GridProblem[] = [];
  for (const [field, written] of Object.entries(train) as Array<[keyof TrainSpec, WrittenValue | undefined]>) {
    if (written === undefined) continue;
    const spec = TRAIN_FIELDS[field];
    const path: PathSegment[] = ['train', field];
    const e = expandValues(written, spec, field);
    if (e.problem) {
      problems.push({ path: [...path, ...e.problem.sub], message: e.problem.message, hint: e.problem.hint });
      continue;
    }
    const listed = Array.isArray(written);
    // Values written out passed the schema; generated ones are checked here, as a stage's are.
    if (isValueExpr(written)) {
      const message = e.values.map((v) => valueProblem(field, spec, v)).find((m) => m !== undefined);
      if (message) problems.push({ path, message, hint: `values: ${e.values.join(', ')}` });
    }
    axes.push({ field, values: e.values, path, listed, isAxis: listed || isValueExpr(written) });
  }
  const size = axes.reduce((n, a) => n * a.values.length, 1);
  if (size > MAX_TRAIN_POINTS) {
    problems.push({
      path: ['train'],
      message: `train expands to ${size} baselines; at most ${MAX_TRAIN_POINTS}`,
      hint: 'narrow its lists or ranges',
    });
  }
  if (problems.length) return { axes, points: [], problems };
  let points: TrainPoint[] = [{ train: {} as TrainSpec, axes: {} }];
  for (const a of axes) {
    points = points.flatMap((p) =>
      a.values.map((v) => ({
        train: { ...p.train, [a.field]: v },
        axes: a.isAxis ? { ...p.axes, [a.field]: v } : p.axes,
      })),
    );
  }
  return { axes, points, problems };
}
