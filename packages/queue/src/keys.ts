/** Squash's own keys beside BullMQ's (`bull:<queue>:…`). */
export const keys = {
  /** Which experiment and Squash version own the queue now (a hash). */
  meta: (queue: string) => `squash:${queue}:meta`,
  /** The recorder holding the queue (one process writes the database). */
  recorder: (queue: string) => `squash:${queue}:recorder`,
  /** Why a baseline failed: its trials fail with it instead of waiting. */
  baselineFailed: (queue: string, id: string) => `squash:${queue}:baseline-failed:${id}`,
  /** A file's bytes by their sha256: shared by every queue and experiment. */
  blob: (sha256: string) => `squash:blob:${sha256}`,
  /** A trained baseline's files (name → sha256, bytes) by baseline id: the id hashes its config. */
  baseline: (id: string) => `squash:baseline:${id}`,
  /** A cached pipeline state's files by its key (the key hashes baseline, stages and version). */
  state: (key: string) => `squash:state:${key}`,
};

/** Blobs and manifests expire when unused this long (each use renews them). */
export const BLOB_TTL_SECONDS = 30 * 24 * 3600;
