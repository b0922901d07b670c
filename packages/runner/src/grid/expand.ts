import { didYouMean, type ParamValue } from '@squash/core';
import type { PathSegment } from '../spec/locate.js';
import type { ModelSpec } from '@squash/trainer/specs';
import type { StageDefaults, WrittenSweep } from '../spec/types.js';
import { sweepAxes, type GridAxis, type GridProblem, type SweepContext } from './axes.js';
import { modelLayerNames } from './layers.js';

/** A sweep larger than this is refused: split it, or narrow its axes. */
export const MAX_POINTS = 10_000;

/** One grid point: axis key (`stageIndex.param`) → value. */
export type Point = Record<string, ParamValue>;

export interface ExpandedSweep {
  axes: GridAxis[];
  points: Point[];
  stageLayers: Array<string[] | undefined>;
  problems: GridProblem[];
}

/** Cartesian product of blocks, first block varying slowest; a block is one axis or a zip group's rows. */
function product(blocks: Point[][]): Point[] {
  let points: Point[] = [{}];
  for (const rows of blocks) points = points.flatMap((p) => rows.map((r) => ({ ...p, ...r })));
  return points;
}

const show = (v: ParamValue) => (typeof v === 'string' ? `'${v}'` : String(v));

type Refs = { refs: Map<string, number>; axes: GridAxis[]; names: string[] };

function resolveRef(ref: string, { refs, axes, names }: Refs): { index?: number; message?: string; hint?: string } {
  const index = refs.get(ref);
  if (index !== undefined) return { index };
  const known = axes.map((a) => a.ref);
  const hint = `axes: ${known.join(', ')}`;
  const [stageName, param] = [ref.slice(0, ref.indexOf('.')), ref.slice(ref.indexOf('.') + 1)];
  const repeated = names.flatMap((n, j) => (n === stageName ? [j] : []));
  if (ref.includes('.') && repeated.length > 1) {
    return {
      message: `'${stageName}' names ${repeated.length} stages of this sweep; write ${repeated.map((j) => `${j}.${param}`).join(' or ')}`,
      hint,
    };
  }
  if (!ref.includes('.')) {
    const ends = known.filter((k) => k.endsWith(`.${ref}`));
    const near = ends.length === 1 ? ends[0] : undefined;
    return {
      message: `'${ref}' is not an axis reference: write <stage>.<param>${near ? `; did you mean '${near}'?` : ''}`,
      hint,
    };
  }
  const near = didYouMean(ref, known);
  if (near) return { message: `unknown axis '${ref}'; did you mean '${near}'?`, hint };
  const staged = repeated.length === 1 || (/^\d+$/.test(stageName) && Number(stageName) < names.length);
  const what = staged ? `stage '${stageName}' does not set '${param}'` : `no stage '${stageName}' in this sweep`;
  return { message: `unknown axis '${ref}': ${what}`, hint };
}

/** Zip groups → one block each (rows pair the axes' values index by index); checks lengths. */
function zipBlocks(sweep: WrittenSweep, base: PathSegment[], r: Refs, problems: GridProblem[]) {
  const { axes } = r;
  const zipped = new Map<number, number>(); // axis index → group index
  const groups: number[][] = [];
  (sweep.zip ?? []).forEach((group, g) => {
    const members: number[] = [];
    group.forEach((ref, k) => {
      const res = resolveRef(ref, r);
      const path = [...base, 'zip', g, k];
      if (res.index === undefined) problems.push({ path, message: res.message!, hint: res.hint });
      else if (zipped.has(res.index) || members.includes(res.index))
        problems.push({
          path,
          message: `axis '${axes[res.index]!.ref}' is already zipped (an axis can be in one zip group, once)`,
        });
      else members.push(res.index);
    });
    if (members.length !== group.length) return;
    const lengths = members.map((m) => axes[m]!.values.length);
    if (members.some((m) => axes[m]!.broken)) return;
    if (lengths.some((n) => n !== lengths[0])) {
      problems.push({
        path: [...base, 'zip', g],
        message: `zipped axes must have equal lengths: ${members.map((m) => `${axes[m]!.ref} has ${axes[m]!.values.length}`).join(', ')}`,
      });
      return;
    }
    members.forEach((m) => zipped.set(m, groups.length));
    groups.push(members);
  });
  return { zipped, groups };
}

type Test = ((p: Point) => boolean) | undefined;

/** Exclusions: each entry must name known axes and values that exist (undefined test: it did not). */
function excludeTests(sweep: WrittenSweep, base: PathSegment[], r: Refs, problems: GridProblem[]): Test[] {
  const { axes } = r;
  return (sweep.exclude ?? []).map((entry, e) => {
    const conds: Array<{ key: string; values: ParamValue[] }> = [];
    let ok = true;
    for (const [ref, written] of Object.entries(entry)) {
      const res = resolveRef(ref, r);
      const path = [...base, 'exclude', e];
      if (res.index === undefined) {
        problems.push({ path, key: ref, message: res.message!, hint: res.hint });
        ok = false;
        continue;
      }
      const axis = axes[res.index]!;
      if (conds.some((c) => c.key === axis.key)) {
        problems.push({ path, key: ref, message: `names axis '${axis.ref}' twice` });
        ok = false;
        continue;
      }
      const values = Array.isArray(written) ? written : [written];
      if (axis.broken) ok = false;
      else {
        values.forEach((v, k) => {
          if (axis.values.some((x) => x === v)) return;
          const shown =
            axis.values.length > 12
              ? `${axis.values.slice(0, 12).map(show).join(', ')}, …`
              : axis.values.map(show).join(', ');
          problems.push({
            path: [...path, ref, ...(Array.isArray(written) ? [k] : [])],
            message: `${show(v)} is not a value of axis '${axis.ref}'`,
            hint: `values: ${shown}`,
          });
          ok = false;
        });
      }
      conds.push({ key: axis.key, values });
    }
    return ok ? (p: Point) => conds.every((c) => c.values.includes(p[c.key]!)) : undefined;
  });
}

/** Drops the points an exclusion matches; an exclusion matching no point is a problem. */
function dropExcluded(
  points: Point[],
  tests: Test[],
  base: PathSegment[],
  zipped: boolean,
  problems: GridProblem[],
): Point[] {
  const matched = tests.map(() => 0);
  const kept = points.filter((p) => {
    let drop = false;
    tests.forEach((t, e) => {
      if (t?.(p)) {
        matched[e]!++;
        drop = true;
      }
    });
    return !drop;
  });
  tests.forEach((t, e) => {
    if (t && !matched[e]) {
      problems.push({
        path: [...base, 'exclude', e],
        message: 'matches no point of the grid',
        hint: zipped ? 'zip pairs these values differently' : undefined,
      });
    }
  });
  return kept;
}

/**
 * Every point of one sweep: the cartesian product of its axes, zip groups advancing together,
 * minus the `exclude:` matches. Problems are located; a sweep that ends with no point is one.
 */
export function expandSweep(sweep: WrittenSweep, sweepIndex: number, ctx: SweepContext): ExpandedSweep {
  const { axes, refs, stageLayers, problems } = sweepAxes(sweep, sweepIndex, ctx);
  const base: PathSegment[] = ['sweeps', sweepIndex];
  const r: Refs = { refs, axes, names: sweep.stages.map((st) => Object.keys(st)[0]!) };
  const { zipped, groups } = zipBlocks(sweep, base, r, problems);
  const blocks: Point[][] = [];
  axes.forEach((axis, i) => {
    const g = zipped.get(i);
    if (g === undefined) blocks.push(axis.values.map((v) => ({ [axis.key]: v })));
    else if (groups[g]![0] === i) {
      const members = groups[g]!.map((m) => axes[m]!);
      blocks.push(members[0]!.values.map((_, k) => Object.fromEntries(members.map((a) => [a.key, a.values[k]!]))));
    }
  });
  const tests = excludeTests(sweep, base, r, problems);
  const broken = axes.some((a) => a.broken) || problems.length > 0;
  const size = blocks.reduce((n, b) => n * b.length, 1);
  if (size > MAX_POINTS) {
    problems.push({
      path: base,
      message: `sweep '${sweep.name}' expands to ${size} points; at most ${MAX_POINTS}`,
      hint: 'split it into several sweeps, or zip or narrow its axes',
    });
    return { axes, points: [], stageLayers, problems };
  }
  if (broken) return { axes, points: [], stageLayers, problems };
  const all = product(blocks);
  const before = problems.length;
  const points = dropExcluded(all, tests, base, groups.length > 0, problems);
  if (!points.length && problems.length === before) {
    problems.push({
      path: base,
      key: all.length ? 'exclude' : undefined,
      message: `sweep '${sweep.name}' expands to no trials${all.length ? ': every point is excluded' : ''}`,
    });
  }
  return { axes, points, stageLayers, problems };
}

/**
 * Every sweep of an experiment, written or normalised (a named model may be inlined: it has the
 * same layers), expanded: what the checks report on and what `planTrials` turns into trials.
 */
export function expandSweeps(exp: {
  model: string | ModelSpec;
  models?: Record<string, ModelSpec>;
  defaults?: StageDefaults;
  sweeps: WrittenSweep[];
}): ExpandedSweep[] {
  const ctx: SweepContext = {
    defaults: exp.defaults ?? {},
    models: exp.models ?? {},
    layers: modelLayerNames(exp.model, exp.models),
  };
  return exp.sweeps.map((s, i) => expandSweep(s, i, ctx));
}
