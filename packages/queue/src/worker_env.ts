/** How `squash worker` tells its sandboxed processes where to connect and cache (environment of the fork). */
export const WORKER_ENV = {
  url: 'SQUASH_WORKER_QUEUE_URL',
  queue: 'SQUASH_WORKER_QUEUE_NAME',
  cacheDir: 'SQUASH_WORKER_CACHE_DIR',
  backend: 'SQUASH_WORKER_BACKEND',
  invocation: 'SQUASH_WORKER_INVOCATION',
} as const;
