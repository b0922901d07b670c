import { existsSync } from 'node:fs';
import { ConfigError } from '@squash/core';
import { checkDatabase, defaultPaths, type Finding } from '@squash/store';
import type { IO } from '../io.js';

export interface DoctorOptions {
  db?: string;
  repair?: boolean;
}

/** One finding as printed: the problem, then what was done or what to do. */
function describe(f: Finding, repair: boolean): string {
  const then = f.repaired
    ? `repaired: ${f.repaired}`
    : f.repairable && !repair
      ? 'to repair: squash doctor --repair'
      : f.action
        ? `to do: ${f.action}`
        : undefined;
  return `- ${f.problem}${then ? `\n    ${then}` : ''}\n`;
}

/**
 * `squash doctor`: checks the database (integrity, foreign keys, schema, RUNNING runs whose process
 * is gone, run records that do not read back) and the files beside it (stray temp files, damaged
 * cache entries), printing each finding. `--repair` fixes what is safe and says what it did; it
 * never rebuilds a damaged database file. Exit 0 when healthy or all repaired, 1 when something remains.
 */
export async function doctor(opts: DoctorOptions, io: IO): Promise<number> {
  const paths = defaultPaths(opts.db);
  if (!existsSync(paths.db)) throw new ConfigError(`no database at ${paths.db}; nothing to check (pass --db)`);
  const repair = !!opts.repair;
  const findings = checkDatabase(paths.db, { repair });
  // The cache checks read tfjs model files: the runner is loaded only here.
  const { checkFiles } = await import('@squash/runner');
  findings.push(...checkFiles({ artifactDir: paths.artifactDir, cacheDir: paths.cacheDir }, { repair }));
  io.out(`squash doctor: ${paths.db}\n`);
  if (!findings.length) {
    io.out('healthy: database whole, no runs left RUNNING by a dead process, no stray temp files, caches intact\n');
    return 0;
  }
  for (const f of findings) io.out(describe(f, repair));
  const remaining = findings.filter((f) => !f.repaired).length;
  const repaired = findings.length - remaining;
  io.out(
    `${findings.length} problem${findings.length === 1 ? '' : 's'}` +
      (repair ? `: ${repaired} repaired, ${remaining} remain\n` : remaining ? '\n' : '\n'),
  );
  return remaining ? 1 : 0;
}
