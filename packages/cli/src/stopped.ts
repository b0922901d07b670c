import { isDiskFull, isEnvironmentError, SquashError } from '@squash/core';
import { type Experiment, planTrials } from '@squash/runner';
import type { SqliteStore } from '@squash/store';

/** A word of a command line, quoted for the shell when it needs to be. */
const shellWord = (s: string) => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * A sweep stopped by its environment (disk full, an unusable database or directory) as the error
 * the user sees: the cause, what is stored, what to do, and the command that does the rest. Any
 * other error passes through unchanged.
 */
export function stoppedSweep(
  e: unknown,
  store: SqliteStore,
  exp: Experiment,
  resume: { file: string; db?: string },
): unknown {
  if (!(e instanceof SquashError) || !isEnvironmentError(e)) return e;
  const command = `squash run ${shellWord(resume.file)}${resume.db ? ` --db ${shellWord(resume.db)}` : ''}`;
  let stored: string;
  try {
    const latest = store.latestByTrial(exp.name);
    const trials = planTrials(exp);
    const done = trials.filter((t) => latest.get(t.id)?.status === 'FINISHED').length;
    stored = `${done} of ${trials.length} trials are stored FINISHED in ${store.path}`;
  } catch {
    stored = `the trials finished before are stored in ${store.path}`;
  }
  const todo = isDiskFull(e) ? 'free some space' : (e.hint ?? 'fix that');
  return new SquashError(
    e.message,
    {
      location: e.location,
      cause: e,
      hint: `the sweep stopped; ${stored}; ${todo}, then \`${command}\` runs the rest`,
    },
    e.exitCode,
  );
}
