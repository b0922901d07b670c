import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { selectBackend } from '@squash/backend';
import { splitValidation } from '@squash/trainer';
import type { Baseline } from '../baseline.js';
import { type RunOptions, runExperiment } from '../execute.js';
import { candidateTrial, latestRuns, searchBaselineTrial, withCandidates } from './candidates.js';
import { ensureBaselines } from '../run/baselines.js';
import { loadExperimentData, startHeartbeat, workerIdentity } from '../run/context.js';
import type { Emit, RunSummary } from '../run/events.js';
import { StopRequest } from '../run/stop.js';
import { modelLayerNames } from '../grid/layers.js';
import type { Experiment } from '../spec/types.js';
import type { MetricValues } from './constraint.js';
import { judge, observationOf, outcomeOf, type SearchOutcome, searchMetricsOf } from './outcome.js';
import { middleValue } from './sensitivity.js';
import { type Assignment, candidateStages, type Dimension, dimensionsOf } from './space.js';
import { type Observation, randomStrategy, type Strategy } from './strategy.js';
import type { Candidate, SearchSpec } from './types.js';

export interface SearchRunOptions extends RunOptions {
  /**
   * Runs one batch of candidates (the trials `only` names) of the experiment with every candidate
   * so far: locally by default (`runExperiment`, with `jobs`), or through a queue.
   */
  runBatch?: (exp: Experiment, only: ReadonlySet<string>) => Promise<RunSummary>;
}

export interface SearchesResult {
  outcomes: SearchOutcome[];
  /** Candidates that ended FAILED (the search went on without them). */
  failed: number;
  /** The experiment with every candidate as a trial: what `report` plans. */
  experiment: Experiment;
}

/** `artifact_bytes 13333` for a one-metric objective, else the weighted sum. */
function scoreText(spec: SearchSpec, score: number): string {
  const metrics = Object.entries(spec.objective.weights);
  if (metrics.length === 1) return `${metrics[0]![0]} ${Number((score / metrics[0]![1]!).toPrecision(6))}`;
  return `objective ${Number(score.toPrecision(6))}`;
}

/**
 * The chosen model (best feasible, else best effort) copied to `<dir>/<search>.best.sqz`, a name
 * that stays put while the search finds better ones; written beside and renamed, never half-written.
 */
function keepChosen(o: SearchOutcome, dir: string): string | undefined {
  const path = (o.best ?? o.bestEffort)?.run?.artifacts.model?.path;
  if (!path?.endsWith('.sqz') || !existsSync(path)) return undefined;
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${o.search}.${o.best ? 'best' : 'best-effort'}.sqz`);
  copyFileSync(path, `${out}.tmp`);
  renameSync(`${out}.tmp`, out);
  // A best effort kept earlier is superseded by a feasible model (and the other way round).
  rmSync(join(dir, `${o.search}.${o.best ? 'best-effort' : 'best'}.sqz`), { force: true });
  return out;
}

const SIZE_PREFERRING = (spec: SearchSpec): boolean => {
  const w = spec.objective.weights;
  return !((w.accuracy ?? 0) < 0 || (w.loss ?? 0) > 0);
};

/** The strategy of a search: the sensitivity one measures its curves on the baseline first. */
async function strategyFor(
  exp: Experiment,
  spec: SearchSpec,
  dims: Dimension[],
  baseline: Baseline,
  validation: Parameters<typeof import('./probe.js').measureCurves>[4],
  emit: Emit,
): Promise<Strategy> {
  if (spec.strategy === 'random') return randomStrategy(dims, spec.seed);
  const [{ measureCurves }, { sensitivityStrategy, curveValues }] = await Promise.all([
    import('./probe.js'),
    import('./sensitivity.js'),
  ]);
  const fixed = dims.map((d) => (d.layer !== undefined ? curveValues(d.domain)[0]! : middleValue(d.domain)));
  const t0 = performance.now();
  // A probe applies the stages the candidate's trial would run, planned as any trial is.
  const stagesOf = (a: Assignment) =>
    candidateTrial(exp, { search: spec.name, stages: candidateStages(spec.pipeline, dims, a) }).stages;
  const { curves, probes } = measureCurves(baseline.model, spec.pipeline, dims, fixed, validation, stagesOf);
  emit({
    type: 'search',
    search: spec.name,
    message: `sensitivity curves of ${curves.length} layers: ${probes} probes in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  });
  return sensitivityStrategy(curves, fixed, SIZE_PREFERRING(spec), randomStrategy(dims, spec.seed));
}

/**
 * Runs every search of the experiment, one after the other: the baseline first (trained once,
 * cached), then batches of candidates proposed by each search's strategy, each batch run as
 * ordinary trials (stored, cached, resumable; `jobs` workers or a queue share a batch), until the
 * trial budget, the time budget, or the strategy ends it. A search killed mid-way and started
 * again proposes the same candidates (strategies are deterministic given what finished) and finds
 * the finished ones in the database. Constraints are judged on validation metrics only.
 */
export async function runSearches(exp: Experiment, opts: SearchRunOptions): Promise<SearchesResult> {
  const { store } = opts;
  const stop = opts.stop ?? new StopRequest();
  const emit: Emit = opts.onEvent ?? (() => {});
  const backend = await selectBackend({ prefer: opts.backend });
  const data = opts.data ?? (await loadExperimentData(exp));
  const runBatch =
    opts.runBatch ?? ((e: Experiment, only: ReadonlySet<string>) => runExperiment(e, { ...opts, data, stop, only }));
  stop.throwIfRequested();
  const experimentId = store.ensureExperiment(exp.name, exp.description);
  const sweepId = store.recordSweep(experimentId, exp.text ?? JSON.stringify(exp), exp.file);
  const heartbeat = startHeartbeat((ids) => store.heartbeat(ids));
  const trial = searchBaselineTrial(exp);
  let baseline: Baseline;
  try {
    const env = {
      store,
      experimentId,
      sweepId,
      identity: workerIdentity(backend.name, randomUUID()),
      heartbeat,
      data,
      stop,
    };
    baseline = (await ensureBaselines([trial], { ...env, cacheDir: opts.cacheDir, emit })).get(trial.baselineId)!;
  } finally {
    heartbeat.stop();
  }
  // Curves need labelled images: the validation split, else (a search naming no accuracy) training images.
  const probeSet = splitValidation(data.train, trial.baseline.train.validationSplit).validation ?? data.train;
  const baselineRun = latestRuns(store, exp.name, [trial.baselineId]).get(trial.baselineId)!;
  const baselineMetrics: MetricValues = searchMetricsOf(baselineRun.metrics);
  const layers = modelLayerNames(exp.model, exp.models) ?? [];
  const candidates: Candidate[] = [];
  const outcomes: SearchOutcome[] = [];
  let current = exp;
  let failed = 0;
  try {
    for (const spec of exp.searches) {
      const t0 = Date.now();
      const dims = dimensionsOf(spec.pipeline, layers);
      emit({
        type: 'search',
        search: spec.name,
        message: `${spec.strategy} search over ${dims.length} dimensions, ${spec.budget.trials} trials${spec.budget.minutes ? ` or ${spec.budget.minutes} min` : ''}, batches of ${spec.batch}`,
      });
      const strategy = await strategyFor(exp, spec, dims, baseline, probeSet, emit);
      const history: Observation[] = [];
      const tried: Array<{ trialId: string; run?: ReturnType<typeof store.getRun> }> = [];
      while (history.length < spec.budget.trials) {
        if (spec.budget.minutes !== undefined && Date.now() - t0 > spec.budget.minutes * 60_000) {
          emit({ type: 'search', search: spec.name, message: `time budget of ${spec.budget.minutes} min used` });
          break;
        }
        stop.throwIfRequested();
        const proposals = strategy.propose(history, Math.min(spec.batch, spec.budget.trials - history.length));
        if (!proposals.length) break;
        const batch = proposals.map((a) => ({ search: spec.name, stages: candidateStages(spec.pipeline, dims, a) }));
        candidates.push(...batch);
        current = withCandidates(exp, candidates);
        const ids = batch.map((c) => candidateTrial(current, c).id);
        failed += (await runBatch(current, new Set(ids))).failed;
        const byTrial = latestRuns(store, exp.name, ids);
        proposals.forEach((a, i) => {
          const run = byTrial.get(ids[i]!);
          history.push(observationOf(a, judge(spec, baselineMetrics, run)));
          tried.push({ trialId: ids[i]!, run });
        });
        const feasible = history.filter((o) => o.feasible && o.score !== undefined);
        const best = feasible.sort((x, y) => x.score! - y.score!)[0];
        emit({
          type: 'search',
          search: spec.name,
          message: `${history.length}/${spec.budget.trials} trials, ${feasible.length} feasible${best ? `, best ${scoreText(spec, best.score!)}` : ''}`,
        });
      }
      const outcome = outcomeOf(spec, baselineMetrics, tried);
      const kept = keepChosen(outcome, join(opts.artifactDir ?? join(dirname(opts.cacheDir), 'artifacts'), exp.name));
      outcomes.push({ ...outcome, seconds: (Date.now() - t0) / 1000, ...(kept ? { kept } : {}) });
    }
  } finally {
    baseline.model.dispose();
  }
  return { outcomes, experiment: current, failed };
}
