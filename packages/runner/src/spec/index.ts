// Reading and planning experiment files without loading TensorFlow.js (report, dry runs).
export { parseSpec, loadExperimentFile, type ParseResult } from './parse.js';
export { buildExperimentSchema } from './schema.js';
export { normalizeSpec } from './normalize.js';
export { formatPath, type PathSegment } from './locate.js';
export type {
  Experiment,
  WrittenExperiment,
  WrittenTrain,
  TrainSpec,
  Stage,
  Trial,
  BaselineConfig,
  Reference,
} from './types.js';
export { TRAIN_DEFAULTS } from './types.js';
export { TRAIN_FIELDS } from './train_fields.js';
export { planTrials, plannedTrials, trialLabel, baselineLabel, trialId, baselineId } from '../plan.js';
export { reportedTrialIds, storedSearches, withCandidates } from '../search/candidates.js';
export { outcomeOf, type SearchOutcome, type CandidateResult } from '../search/outcome.js';
export { parseConstraint, ExpressionError, SEARCH_METRIC_NAMES } from '../search/constraint.js';
