// The store alone: reading results (report, query, show) without loading TensorFlow.js.
export { SqliteStore, STALE_AFTER_SECONDS } from './sqlite_store.js';
export { MIGRATIONS } from './migrations.js';
export { defaultPaths } from './paths.js';
export type {
  RunStore,
  RunView,
  RunHeads,
  RunStatus,
  NewRun,
  MetricInput,
  WorkerIdentity,
  ClaimResult,
} from './types.js';
