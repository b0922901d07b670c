export { parseQueueTarget, connect, DEFAULT_QUEUE_NAME, type QueueTarget } from './target.js';
export {
  openQueue,
  claimQueueFor,
  holdRecorderOf,
  enqueueTrials,
  recordResults,
  queuedExperimentText,
  jobIdOf,
  type QueueSession,
} from './recorder.js';
export { runQueued, collectQueued, type QueuedRunOptions } from './queued_run.js';
export { startWorker, type WorkerOptions, type WorkerEvent } from './worker.js';
export { PAYLOAD_FORMAT, payloadProblem, type JobPayload, type JobResult } from './payload.js';
export { keys } from './keys.js';
