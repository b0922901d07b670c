import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileError } from './errors.js';

/**
 * Writes a whole file or none: a temp file beside it (`<path>.tmp-<pid>`), renamed into place. On
 * any failure (a full disk) the temp file is removed and the error is mapped to a FileError naming
 * `path` and what was being done; only a process killed mid-write leaves one (`squash doctor`).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, doing: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {} // the failure above is the one to report
    throw fileError(e, path, doing);
  }
}
