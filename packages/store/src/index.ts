// The store alone: reading results (report, query, show) without loading TensorFlow.js.
export { SqliteStore } from './sqlite_store.js';
export { STALE_AFTER_SECONDS, pidExists } from './liveness.js';
export { checkDatabase } from './doctor.js';
export { storeError } from './db.js';
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
  RecordedResult,
  MetricInput,
  WorkerIdentity,
  ClaimRequest,
  ClaimResult,
  StatusCount,
  DeadRun,
  Finding,
} from './types.js';
export * from './search/index.js';
