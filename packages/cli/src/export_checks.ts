/**
 * What `squash export` checks and writes around the conversion itself: the output directory (new or
 * empty, filled whole or not at all) and the run's artifact (there, and the bytes the run wrote).
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RunView } from '@squash/contract';
import { ConfigError, FileError, fileError, sha256Hex } from '@squash/core';

/** `--out` must be new or an empty directory: an export never mixes its files with others. */
export function checkOutDir(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory())
    throw new ConfigError(`${out} is a file; give a new or empty directory`, { location: { path: '--out' } });
  const entries = readdirSync(out);
  if (entries.length)
    throw new ConfigError(
      `${out} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}: ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); give a new or empty directory`,
      { location: { path: '--out' } },
    );
}

/**
 * Writes the files into a temporary directory beside `out` and renames it to `out` (replacing an
 * empty one), so `out` holds every file or none; missing parents are created.
 */
export function writeDirAtomic(out: string, files: ReadonlyArray<{ name: string; bytes: Uint8Array }>): void {
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
  try {
    mkdirSync(dirname(out), { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    for (const f of files) writeFileSync(join(tmp, f.name), f.bytes);
    if (existsSync(out)) rmdirSync(out); // empty (checked before anything was computed)
    renameSync(tmp, out);
  } catch (e) {
    try {
      rmSync(tmp, { recursive: true, force: true });
    } catch {} // the failure above is the one to report
    throw fileError(e, out, 'writing the export');
  }
}

export interface RunArtifact {
  path: string;
  bytes: Uint8Array;
  /** Whether the bytes were checked against a checksum recorded at write time (runs before that have none). */
  checksum: 'verified' | 'not recorded';
}

/**
 * The `.sqz` a trial run wrote, read and checked: present (at its recorded path, or under the
 * database's `artifacts/` when the results directory moved), and unaltered — its sha256 equals
 * the one recorded when it was written; for a run recorded before checksums were, its size equals
 * the recorded size (the caller then checks that it parses).
 */
export function readRunArtifact(run: RunView, dbPath: string): RunArtifact {
  const recorded = run.artifacts.model;
  if (!recorded)
    throw new ConfigError(`run ${run.id} recorded no model artifact: there is nothing to export`, {
      hint: `squash show ${run.id.slice(0, 12)} lists what it recorded`,
    });
  const moved = join(dirname(dbPath), 'artifacts', basename(recorded.path));
  const path = existsSync(recorded.path) ? recorded.path : existsSync(moved) ? moved : undefined;
  if (!path)
    throw new FileError(`the artifact of run ${run.id} is missing (${recorded.bytes} bytes when written)`, 'ENOENT', {
      location: { file: recorded.path },
      hint: `run the trial again to write it (squash run <experiment.yaml> --force), or restore the file`,
    });
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw fileError(e, path, 'reading the artifact');
  }
  const altered = (what: string) =>
    new ConfigError(`the artifact of run ${run.id} was altered since the run wrote it: ${what}`, {
      location: { file: path },
      hint: 'restore the file, or run the trial again to write it anew (squash run <experiment.yaml> --force)',
    });
  if (recorded.sha256 !== undefined) {
    const sha = sha256Hex(bytes);
    if (sha !== recorded.sha256) throw altered(`its sha256 is ${sha}, recorded ${recorded.sha256}`);
    return { path, bytes, checksum: 'verified' };
  }
  if (bytes.length !== recorded.bytes) throw altered(`it has ${bytes.length} bytes, recorded ${recorded.bytes}`);
  return { path, bytes, checksum: 'not recorded' };
}
