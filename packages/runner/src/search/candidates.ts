import { parseDocument } from 'yaml';
import { SpecError } from '@squash/core';
import type { RunView } from '@squash/contract';
import type { RunStore } from '@squash/store';
import { baselineId, planTrials } from '../plan.js';
import { expandTrain } from '../grid/train.js';
import { parseSpec } from '../spec/parse.js';
import type { Experiment, Trial } from '../spec/types.js';
import type { MetricValues } from './constraint.js';
import { outcomeOf, type SearchOutcome, searchMetricsOf } from './outcome.js';
import type { Candidate } from './types.js';

/**
 * The experiment with its searches' candidates so far as `candidates:` in its text, parsed again:
 * the text is what the database records and what queue workers receive, so a candidate is an
 * ordinary trial to every reader.
 */
export function withCandidates(exp: Experiment, candidates: readonly Candidate[]): Experiment {
  if (exp.text === undefined) throw new Error('a search needs the experiment as parsed from its text');
  const doc = parseDocument(exp.text);
  // Written out in full: a shared override object would otherwise become YAML aliases, and past
  // the parser's alias limit a long search would no longer read back.
  doc.set('candidates', doc.createNode(candidates, { aliasDuplicateObjects: false }));
  const { experiment, errors } = parseSpec(String(doc), exp.file);
  if (!experiment) throw new SpecError(errors);
  return experiment;
}

/** The trial a candidate is (its id is the id any grid point with the same stages has). */
export function candidateTrial(exp: Experiment, c: Candidate): Trial {
  return planTrials({
    ...exp,
    sweeps: [{ name: c.search, stages: c.stages as Experiment['sweeps'][number]['stages'] }],
  })[0]!;
}

/** The one baseline every search of the experiment compresses (a search takes one seed, one `train:` point). */
export function searchBaselineTrial(exp: Experiment): Trial {
  const train = expandTrain(exp.train).points[0]!.train;
  const baseline = { model: exp.model, dataset: exp.dataset, train, seed: exp.seeds[0]! };
  return { id: '', sweep: 'baseline', baseline, baselineId: baselineId(baseline), stages: [] };
}

/** The latest run of each of these trials (baselines included), by trial id, read in one query. */
export function latestRuns(store: RunStore, experiment: string, trialIds: readonly string[]): Map<string, RunView> {
  const latest = store.latestByTrial(experiment);
  const runIds = trialIds.flatMap((id) => latest.get(id)?.runId ?? []);
  return new Map(store.runsById(runIds).map((r) => [r.trialId, r]));
}

/** The candidates the database last recorded for this experiment's searches, in proposal order. */
function storedCandidates(store: RunStore, exp: Experiment): Candidate[] {
  const text = store.latestSweepText(exp.name, 'candidates');
  if (!text) return [];
  const written = parseDocument(text).toJS() as { candidates?: Candidate[] } | null;
  const names = new Set(exp.searches.map((s) => s.name));
  return (written?.candidates ?? []).filter((c) => names.has(c.search));
}

/**
 * A search experiment as the database holds it, for `report`: the file with the candidates it
 * last ran, and each search's outcome judged again from the stored runs (validation metrics only).
 */
export function storedSearches(
  store: RunStore,
  exp: Experiment,
): { experiment: Experiment; outcomes: SearchOutcome[] } {
  const candidates = storedCandidates(store, exp);
  const experiment = candidates.length ? withCandidates(exp, candidates) : exp;
  const ids = candidates.map((c) => candidateTrial(experiment, c).id);
  const baselineId = searchBaselineTrial(exp).baselineId;
  const runs = latestRuns(store, exp.name, [baselineId, ...ids]);
  const baselineRun = runs.get(baselineId);
  const baseline: MetricValues = baselineRun ? searchMetricsOf(baselineRun.metrics) : {};
  const outcomes = exp.searches.map((spec) =>
    outcomeOf(
      spec,
      baseline,
      candidates.flatMap((c, i) => (c.search === spec.name ? [{ trialId: ids[i]!, run: runs.get(ids[i]!) }] : [])),
    ),
  );
  return { experiment, outcomes };
}

/** The trials a report of the experiment shows, in plan order: baselines (a search's too) first. */
export function reportedTrialIds(exp: Experiment): string[] {
  const trials = planTrials(exp);
  const baselines = trials.map((t) => t.baselineId);
  if (exp.searches.length) baselines.push(searchBaselineTrial(exp).baselineId);
  return [...new Set(baselines), ...trials.map((t) => t.id)];
}
