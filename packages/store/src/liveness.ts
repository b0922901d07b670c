/** A run's process counts as dead after this long without a heartbeat (other hosts, reused pids). */
export const STALE_AFTER_SECONDS = 60;

/** What a RUNNING row records about the process working on it. */
export interface Liveness {
  host: string | null;
  pid: number | null;
  heartbeat_at: string | null;
}

/** Whether a process of this host exists (a pid of a process of another user counts as existing). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * On this host a dead pid is known at once; elsewhere only a stale heartbeat tells. A live pid
 * with a stale heartbeat is a reused pid, so it counts as dead too.
 */
export function isAlive(r: Liveness, host: string): boolean {
  const fresh = r.heartbeat_at !== null && Date.now() - Date.parse(r.heartbeat_at) < STALE_AFTER_SECONDS * 1000;
  if (r.host === host && r.pid !== null && !pidExists(r.pid)) return false;
  return fresh;
}

/** The error recorded on a RUNNING run whose process is gone, when it is marked KILLED. */
export function deadRunMessage(r: Liveness): string {
  return `process ${r.pid ?? '?'} on ${r.host ?? '?'} stopped without finishing (no heartbeat since ${r.heartbeat_at ?? 'start'})`;
}
