// The store alone: reading results (report, query, show) without loading TensorFlow.js.
export { SqliteStore, STALE_AFTER_SECONDS } from './sqlite_store.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export { defaultPaths } from './paths.js';
export type {
  RunStore,
  RunView,
  RunHeads,
  RunStatus,
  RunBatch,
  RunArtifact,
  NewRun,
  MetricInput,
  WorkerIdentity,
  ClaimRequest,
  ClaimResult,
  StatusCount,
} from './types.js';
export * from './search/index.js';
