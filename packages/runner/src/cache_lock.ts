import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { pidExists } from '@squash/store';

/**
 * A lock file in the shared cache dir, so processes of any experiment that need the same cache
 * entry compute it once: created atomically (O_EXCL) with its holder's host and pid, its mtime
 * refreshed while held. A lock is stale — and taken over — when its pid is dead on this host, or
 * when it has not been refreshed within the stale window (a holder on another host, or a frozen one).
 */
export interface LockHolder {
  host: string;
  pid: number;
  /** ISO time the lock was taken. */
  since: string;
  /** Identifies one holding, so a release never removes a lock taken over meanwhile. */
  token: string;
}

export interface HeldLock {
  holder: LockHolder;
  release(): void;
}

export interface LockOptions {
  /** A lock not refreshed for this long is stale (default 60 s). */
  staleMs?: number;
  /** How often a held lock's mtime is refreshed (default staleMs / 6). */
  refreshMs?: number;
}

export const DEFAULT_STALE_MS = 60_000;

/** The locks this process holds (token → path): a lock naming this pid but another token is a dead namesake's. */
const held = new Map<string, string>();

// An exit (process.exit on a signal included) leaves no lock of this process behind, so nobody
// waits for it; a crash that skips this leaves one whose pid is dead, which is stale at once.
let exitHook = false;
function releaseAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const [token, path] of held) if (readHolder(path)?.holder?.token === token) removeIfPresent(path);
  });
}

function readHolder(path: string): { holder?: LockHolder; mtimeMs: number } | undefined {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    try {
      return { holder: JSON.parse(readFileSync(path, 'utf8')) as LockHolder, mtimeMs };
    } catch {
      return { mtimeMs }; // being written (created, not yet filled), or garbage: judged by age alone
    }
  } catch {
    return undefined; // gone
  }
}

function isStale(found: { holder?: LockHolder; mtimeMs: number }, staleMs: number): boolean {
  if (Date.now() - found.mtimeMs > staleMs) return true;
  const h = found.holder;
  if (!h || h.host !== hostname()) return false;
  // Containers reuse pids: a lock of this pid that this process does not hold was left by an earlier one.
  return h.pid === process.pid ? !held.has(h.token) : !pidExists(h.pid);
}

function createExclusive(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

const removeIfPresent = (path: string) => {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
};

/**
 * Removes a stale lock. Under a short-lived guard file, so of two processes that both judged the
 * same lock stale, the second re-reads and finds the first's fresh lock instead of removing it.
 */
function breakStale(path: string, seen: { holder?: LockHolder; mtimeMs: number }, staleMs: number): void {
  const guard = `${path}.takeover`;
  if (!createExclusive(guard, String(process.pid))) {
    // A guard is held for microseconds: one this old was left by a process that died holding it.
    const g = readHolder(guard);
    if (g && Date.now() - g.mtimeMs > 10_000) removeIfPresent(guard);
    return;
  }
  try {
    const now = readHolder(path);
    if (now && now.holder?.token === seen.holder?.token && isStale(now, staleMs)) removeIfPresent(path);
  } finally {
    removeIfPresent(guard);
  }
}

/** The lock, or the live holder of it (undefined when unknown: a lock being written). */
export function tryLock(path: string, opts: LockOptions = {}): HeldLock | { heldBy: LockHolder | undefined } {
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const holder: LockHolder = {
    host: hostname(),
    pid: process.pid,
    since: new Date().toISOString(),
    token: randomUUID(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(path, JSON.stringify(holder))) {
      held.set(holder.token, path);
      releaseAllOnExit();
      const timer = setInterval(
        () => {
          try {
            const t = new Date();
            utimesSync(path, t, t);
          } catch {
            // removed under us (taken over as stale): the release below leaves it alone
          }
        },
        opts.refreshMs ?? Math.max(10, Math.floor(staleMs / 6)),
      );
      timer.unref();
      return {
        holder,
        release() {
          clearInterval(timer);
          held.delete(holder.token);
          if (readHolder(path)?.holder?.token === holder.token) removeIfPresent(path);
        },
      };
    }
    const found = readHolder(path);
    if (found && !isStale(found, staleMs)) return { heldBy: found.holder };
    if (found) breakStale(path, found, staleMs);
  }
  return { heldBy: readHolder(path)?.holder };
}
