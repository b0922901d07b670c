import { ConfigError, fileError, InternalError, isSystemError, SquashError } from '@squash/core';
import { terminalText } from '@squash/reporter';
import { storeError } from '@squash/store';

/**
 * The error boundary: whatever reached the top as a Squash error. The tables live with what they
 * map (system errors: core's `fileError`; SQLite's: the store's `storeError`, which code near the
 * failure calls with the file it was using); this applies them to anything that got past. What no
 * table knows is a bug: an InternalError carrying the original, stack and all.
 */
export function toSquashError(e: unknown): SquashError {
  if (e instanceof SquashError) return e;
  if (isSystemError(e)) {
    const mapped = fileError(e);
    if (mapped instanceof SquashError) return mapped;
  }
  if (e instanceof Error && e.name === 'SqliteError') {
    const mapped = storeError(e, 'the database');
    if (mapped instanceof SquashError) return mapped;
  }
  // The yaml package's own errors, should one escape the spec parser (which locates its own).
  if (e instanceof Error && /^YAML(Parse|Warn)?Error$/.test(e.name))
    return new ConfigError(`YAML: ${e.message.split('\n')[0]}`);
  return new InternalError(e instanceof Error ? e.message : String(e), { cause: e });
}

/** The one top-level handler: input errors → their message and exit 2; bugs → stack and a plea. */
export function exitCodeFor(e: unknown, write: (s: string) => void): number {
  const error = toSquashError(e);
  if (error instanceof InternalError) {
    // The original's stack (where the bug is) when the boundary wrapped it, else the error's own.
    const shown = error === e ? error : e;
    write(
      `squash: internal error (please report it with the lines below): ${(shown as Error)?.stack ?? String(shown)}\n`,
    );
    return 1;
  }
  // Messages quote names from the user's files and databases: shown escaped, line by line, never interpreted.
  const text = error.describe().split('\n').map(terminalText).join('\n');
  write(`squash: ${text}\n`);
  return error.exitCode;
}
