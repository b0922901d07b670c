import { StoreError } from '@squash/core';
import { foreignKeyProblems, integrityProblems, openDatabase } from './db.js';
import { checkSchema } from './migrations.js';
import { SqliteStore } from './sqlite_store.js';
import type { DeadRun, Finding } from './types.js';

const RESTORE = 'restore a backup of the database (doctor reports damage; it does not rebuild a damaged file)';

/**
 * A StoreError from opening or checking the file, as a finding doctor cannot repair; its hint is
 * what to do, unless the hint is to run doctor (this is doctor): then it is to restore a backup.
 */
function unusable(e: StoreError): Finding {
  return {
    problem: e.message,
    repairable: false,
    action: e.hint === undefined || e.hint.includes('squash doctor') ? RESTORE : e.hint,
  };
}

/**
 * The file as SQLite sees it (integrity, foreign keys) and as Squash does (schema); read-only.
 * Returns true when the runs can be checked too (a whole file with the current schema).
 */
function checkFile(path: string, findings: Finding[]): boolean {
  const conn = openDatabase(path, { readonly: true });
  try {
    const damage = integrityProblems(conn);
    if (damage.length) {
      findings.push({
        problem: `damaged: integrity_check says ${damage.join('; ')}`,
        repairable: false,
        action: RESTORE,
      });
      return false;
    }
    for (const fk of foreignKeyProblems(conn))
      findings.push({
        problem: `${fk.rows} row(s) of ${fk.table} refer to ${fk.parent} rows that do not exist`,
        repairable: false,
        action: RESTORE,
      });
    try {
      checkSchema(conn);
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      // Another Squash's schema (its message names the command or version), or another application's file.
      findings.push({ problem: e.message, repairable: false, action: e.hint });
      return false;
    }
    return true;
  } finally {
    conn.close();
  }
}

/**
 * `squash doctor` on the database: integrity and foreign keys, the schema, RUNNING runs whose
 * process is gone, and run views that do not read back. With `repair`, marks the dead runs KILLED
 * (a run does them again) and rebuilds the views from the tables; nothing else is changed, and
 * without `repair` nothing is written.
 */
export function checkDatabase(path: string, { repair = false }: { repair?: boolean } = {}): Finding[] {
  const findings: Finding[] = [];
  try {
    if (!checkFile(path, findings)) return findings;
  } catch (e) {
    if (e instanceof StoreError) return [...findings, unusable(e)];
    throw e;
  }
  const reader = SqliteStore.openReadOnly(path);
  let dead: DeadRun[];
  let views: string[];
  try {
    dead = reader.deadRuns();
    views = reader.damagedViews();
  } finally {
    reader.close();
  }
  const deadFindings = dead.map(
    (r): Finding => ({
      problem: `run ${r.id} (${r.experiment}: ${r.label}) is RUNNING, but ${r.reason}`,
      repairable: true,
    }),
  );
  const viewFinding: Finding | undefined = views.length
    ? { problem: `${views.length} run record(s) do not read back (damaged stored view)`, repairable: true }
    : undefined;
  if (repair && (dead.length || views.length)) {
    const writer = SqliteStore.open(path);
    try {
      const marked = new Set(writer.killDeadRuns(dead.map((r) => r.id)));
      dead.forEach((r, i) => {
        if (marked.has(r.id)) deadFindings[i]!.repaired = 'marked KILLED (the next `squash run` does it again)';
      });
      if (viewFinding) {
        writer.rebuildViews(views);
        viewFinding.repaired = 'rebuilt from the params, metrics, artifacts and tags tables';
      }
    } finally {
      writer.close();
    }
  }
  return [...findings, ...deadFindings, ...(viewFinding ? [viewFinding] : [])];
}
