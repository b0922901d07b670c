import { ConfigError, type ParamValue, SpecError, SQUASH_VERSION, stableHash } from '@squash/core';
import type { GridAxis } from './grid/axes.js';
import { type ExpandedSweep, expandSweeps, type Point } from './grid/expand.js';
import { expandTrain } from './grid/train.js';
import { canonicalTrain } from './train_settings.js';
import { deepFreeze } from './spec/freeze.js';
import { formatPath } from './spec/locate.js';
import type { BaselineConfig, Experiment, LayerOverride, Stage, Trial, WrittenSweep } from './spec/types.js';
import { canonicalModels, canonicalStage, modelsNamedBy } from './stages/registry.js';
import { canonicalModelSpec, type ModelSpec } from '@squash/trainer/specs';
import { canonicalAugment, canonicalNormalize, type DatasetSpec } from '@squash/datasets';

/**
 * The dataset as ids hash it: files read from a path are their content (the same files elsewhere
 * are the same data), preprocessing without the parts written at their default. A spec with
 * neither (mnist, synthetic, as every experiment before them) hashes as it always did.
 */
export function canonicalDataset(d: DatasetSpec): Record<string, unknown> {
  const { path, content, normalize, augment, ...rest } = d;
  return {
    ...rest,
    ...(content ? { content: content.sha256 } : { path }),
    normalize: canonicalNormalize(normalize),
    augment: canonicalAugment(augment),
  };
}

/**
 * The baseline as ids hash it: an inline model without the layer fields written at their default,
 * the canonical dataset, the training without optimizer fields at their default (`canonicalTrain`).
 */
function canonicalBaseline(b: BaselineConfig): Record<string, unknown> {
  return {
    ...b,
    model: typeof b.model === 'string' ? b.model : canonicalModelSpec(b.model),
    dataset: canonicalDataset(b.dataset),
    train: canonicalTrain(b.train),
  };
}

/** The baseline id: hash of everything that determines the trained model, plus the Squash version. */
export function baselineId(b: BaselineConfig): string {
  return stableHash({ kind: 'baseline', squash: SQUASH_VERSION, ...canonicalBaseline(b) });
}

/**
 * The trial id: hash of everything that determines its numbers (baseline + resolved stages + the
 * student models they name) plus the Squash version, so another version never reuses a result.
 * A stage's `layer` is a label (its `layers` already say it), so it is left out, and so are params
 * and layer fields written at their declared default (`canonicalStage`, `canonicalModelSpec`).
 */
export function trialId(baseline: BaselineConfig, stages: Stage[], models: Record<string, ModelSpec> = {}): string {
  const resolved = stages.map(({ layer: _label, ...s }) => canonicalStage(s));
  return stableHash({
    kind: 'trial',
    squash: SQUASH_VERSION,
    baseline: canonicalBaseline(baseline),
    stages: resolved,
    ...(Object.keys(models).length ? { models: canonicalModels(models) } : {}),
  });
}

/** One point → the resolved stages of a trial (a layer axis becomes `layers` overrides). */
function pointStages(sweep: WrittenSweep, axes: GridAxis[], point: Point): Stage[] {
  return sweep.stages.map((s, j) => {
    const compressor = Object.keys(s)[0]!;
    const stage: Stage = { compressor, params: {} };
    for (const axis of axes) {
      if (axis.stage !== j) continue;
      const v = point[axis.key]!;
      if (!axis.isLayer) stage.params[axis.param] = v;
      else {
        stage.layer = String(v);
        stage.layers = [{ match: String(v) }, { match: '*', skip: true }];
      }
    }
    const written = Object.values(s)[0]?.layers;
    if (Array.isArray(written)) stage.layers = written as LayerOverride[];
    return stage;
  });
}

/** Grid expansions made while a file was checked, reused for the frozen Experiment parsing returned. */
const checkedGrids = new WeakMap<Experiment, ExpandedSweep[]>();
/** Plans of frozen experiments: each is computed once per process. */
const plans = new WeakMap<Experiment, Trial[]>();

/**
 * Records the grid `parseSpec` expanded while checking `exp` (a deep-frozen Experiment, so it can
 * never drift from its grid): `planTrials(exp)` builds the trials from it instead of expanding again.
 */
export function rememberCheckedGrid(exp: Experiment, expanded: ExpandedSweep[]): void {
  if (Object.isFrozen(exp)) checkedGrids.set(exp, expanded);
}

/**
 * Every trial of an experiment, pure and deterministic: seeds × `train:` points × sweeps × grid points (see
 * SWEEPS.md for zip, exclude, ranges, defaults and layer axes). A point that two sweeps share
 * (same stages, same values) is one trial, listed under the first sweep. An experiment that did
 * not come through `parseSpec` may still be malformed: then every problem is thrown at once.
 *
 * A parsed experiment is frozen, so its plan is computed once (from the grid its validation
 * expanded) and every later call returns the same frozen array; an experiment built by hand is
 * planned on each call.
 */
export function planTrials(exp: Experiment): Trial[] {
  const planned = plans.get(exp);
  if (planned) return planned;
  const expanded = checkedGrids.get(exp) ?? expandSweeps(exp);
  const train = expandTrain(exp.train);
  const problems = [...train.problems, ...expanded.flatMap((e) => e.problems)];
  if (problems.length) {
    throw new SpecError(
      problems.map(
        (p) =>
          new ConfigError(p.message, {
            location: { file: exp.file, path: formatPath(p.key ? [...p.path, p.key] : p.path) },
            hint: p.hint,
          }),
      ),
    );
  }
  const trials: Trial[] = [];
  const seen = new Set<string>();
  for (const seed of exp.seeds) {
    for (const t of train.points) {
      const baseline: BaselineConfig = { model: exp.model, dataset: exp.dataset, train: t.train, seed };
      const bId = baselineId(baseline);
      const trainAxes = Object.keys(t.axes).length ? { trainAxes: t.axes } : {};
      exp.sweeps.forEach((sweep, i) => {
        const { axes, points } = expanded[i]!;
        for (const point of points) {
          const stages = pointStages(sweep, axes, point);
          const id = trialId(baseline, stages, modelsNamedBy(stages, exp.models));
          if (seen.has(id)) continue;
          seen.add(id);
          trials.push({ id, sweep: sweep.name, baseline, baselineId: bId, stages, ...trainAxes });
        }
      });
    }
  }
  if (!Object.isFrozen(exp)) return trials;
  checkedGrids.delete(exp);
  plans.set(exp, deepFreeze(trials));
  return trials;
}

/** The plan's trials, or only those `only` names (a search's batch). */
export function plannedTrials(exp: Experiment, only?: ReadonlySet<string>): Trial[] {
  return only ? planTrials(exp).filter((t) => only.has(t.id)) : planTrials(exp);
}

const spell = (name: string, values: string[]) => (values.length ? `${name}(${values.join(',')})` : name);

/**
 * `prune-weights(retention=0.5,layer=dense_1) → quantize-weights(bits=4)` — a compact label for
 * tables. With `train:` axes (`trial.trainAxes`) it starts with their values,
 * `train(learningRate=0.01) → …`, so trials that differ only in their baseline never share a label.
 */
export function trialLabel(stages: Stage[], trainAxes?: Record<string, ParamValue>): string {
  const parts = stages.map((s) => {
    const params = Object.entries(s.params).map(([k, v]) => `${k}=${v}`);
    if (s.layer !== undefined) return spell(s.compressor, [...params, `layer=${s.layer}`]);
    if (!s.layers?.length) return spell(s.compressor, params);
    // Per-layer settings (a paper's per-layer rates, a search's allocation) say their values: `dense_1 0.08`.
    const layers = s.layers.map(({ match, skip, ...own }) =>
      skip ? `${match} skip` : `${match} ${Object.values(own).join('/')}`,
    );
    return `${spell(s.compressor, params).replace(/\)$/, '')}${params.length ? '; ' : '('}${layers.join(', ')})`;
  });
  if (trainAxes && Object.keys(trainAxes).length) parts.unshift(spell('train', axisValues(trainAxes)));
  return parts.join(' → ');
}

const axisValues = (axes: Record<string, ParamValue>) => Object.entries(axes).map(([k, v]) => `${k}=${v}`);

/** `baseline`, or with `train:` axes `baseline(learningRate=0.01)`: the label of a baseline run. */
export function baselineLabel(trainAxes?: Record<string, ParamValue>): string {
  return spell('baseline', axisValues(trainAxes ?? {}));
}
