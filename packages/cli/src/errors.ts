import { SquashError, InternalError } from '@squash/core';

/** The one top-level handler: input errors → their message and exit 2; bugs → stack and a plea. */
export function exitCodeFor(e: unknown, write: (s: string) => void): number {
  if (e instanceof InternalError) {
    write(`squash: internal error (please report it with the lines below): ${e.stack}\n`);
    return 1;
  }
  if (e instanceof SquashError) {
    write(`squash: ${e.describe()}\n`);
    return e.exitCode;
  }
  write(`squash: ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}
