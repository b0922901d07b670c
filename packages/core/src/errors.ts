/** Where in a user's input a problem sits. Line and column are 1-based. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
  /** Path inside the document, e.g. `sweeps[2].stages[0].prune.retention`. */
  path?: string;
}

export interface SquashErrorOptions {
  location?: SourceLocation;
  hint?: string;
  cause?: unknown;
}

/** Base of every error Squash raises on purpose; `exitCode` is what the CLI exits with. */
export class SquashError extends Error {
  readonly location?: SourceLocation;
  readonly hint?: string;
  readonly exitCode: number;

  constructor(message: string, options: SquashErrorOptions = {}, exitCode = 1) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.location = options.location;
    this.hint = options.hint;
    this.exitCode = exitCode;
  }

  /** `file:line:col: path: message (hint)` — the form editors and terminals link. */
  describe(): string {
    return (
      [formatLocation(this.location), this.message].filter(Boolean).join(' ') + (this.hint ? ` (${this.hint})` : '')
    );
  }
}

/** Bad user input (experiment file, flags, data files): exit code 2, nothing written. */
export class ConfigError extends SquashError {
  constructor(message: string, options: SquashErrorOptions = {}) {
    super(message, options, 2);
  }
}

/** Several input problems reported at once. */
export class SpecError extends ConfigError {
  readonly problems: ConfigError[];
  constructor(problems: ConfigError[]) {
    super(problems.map((p) => p.describe()).join('\n'));
    this.problems = problems;
  }
  override describe(): string {
    return this.message;
  }
}

/** A data file that is missing, truncated or not what it claims to be. */
export class DatasetError extends ConfigError {}

/** Ends the process with a given code without a stack trace. */
export class ExitError extends SquashError {
  constructor(code: number, message = `exit ${code}`) {
    super(message, {}, code);
  }
}

/**
 * The run database cannot be used. Exit code 2 when the file is the problem (corrupt, not a
 * database, read-only, cannot be opened, written by another Squash version), 1 when the system is
 * (locked by another process, disk full, I/O error). `location.file` is the database path.
 */
export class StoreError extends SquashError {
  constructor(message: string, options: SquashErrorOptions = {}, exitCode = 2) {
    super(message, options, exitCode);
  }
}

/** A bug in Squash, not in the user's input (the CLI asks for a report and prints the stack). */
export class InternalError extends SquashError {}

/**
 * A file or directory Squash reads or writes cannot be used. Like StoreError: exit code 2 when the
 * path is the problem (missing, not permitted, read-only, a directory where a file belongs), 1 when
 * the machine is (disk full, I/O error, too many open files). `location.file` is the path.
 */
export class FileError extends SquashError {
  /** The system error code (`ENOSPC`, `EACCES`, …). */
  readonly code: string;
  constructor(message: string, code: string, options: SquashErrorOptions = {}, exitCode = 2) {
    super(message, options, exitCode);
    this.code = code;
  }
}

/** What to do after a disk-full error, wherever it happened: nothing stored is lost. */
export const FREE_SPACE_HINT =
  'free some space, then run the same command again: what was stored is kept, a run does only the trials left';

/** Each system error code a user can act on: what it means, what to do, and whose problem it is. */
const SYSTEM_ERRORS: Record<string, { what: string; hint?: string; exit: 1 | 2 }> = {
  ENOENT: { what: 'no such file or directory', exit: 2 },
  EACCES: { what: 'permission denied', hint: 'check the permissions of the file and its directory', exit: 2 },
  EPERM: { what: 'operation not permitted', hint: 'check the permissions of the file and its directory', exit: 2 },
  EROFS: { what: 'read-only file system', hint: 'use a writable location (e.g. --db on another disk)', exit: 2 },
  EISDIR: { what: 'is a directory, not a file', exit: 2 },
  ENOTDIR: { what: 'a part of the path is a file, not a directory', exit: 2 },
  EEXIST: { what: 'already exists', exit: 2 },
  ENAMETOOLONG: { what: 'file name too long', exit: 2 },
  ELOOP: { what: 'too many symbolic links', exit: 2 },
  ENOSPC: { what: 'disk full', hint: FREE_SPACE_HINT, exit: 1 },
  EDQUOT: { what: 'disk quota exceeded', hint: FREE_SPACE_HINT, exit: 1 },
  EFBIG: { what: 'file too large for this file system', exit: 1 },
  EIO: { what: 'I/O error', hint: 'the disk may be failing; check the system log', exit: 1 },
  EMFILE: { what: 'too many open files', hint: 'raise the limit (ulimit -n) or run fewer jobs', exit: 1 },
  ENFILE: { what: 'too many open files on the system', exit: 1 },
};

/** What Node.js adds to an error from the system (`fs`, `child_process`). */
export interface SystemErrorFields {
  code: string;
  errno: number;
  path?: string;
  syscall?: string;
}

/** True for a Node.js system error carrying an errno code such as ENOENT. */
export function isSystemError(e: unknown): e is Error & SystemErrorFields {
  return e instanceof Error && typeof (e as Partial<SystemErrorFields>).code === 'string' && 'errno' in e;
}

/**
 * A system error as a FileError naming the path (the one given, else the one Node recorded) and
 * what to do; `doing` says what Squash was doing ("writing the artifact"). Anything else, or an
 * unknown code, passes through unchanged.
 */
export function fileError(e: unknown, file?: string, doing?: string): unknown {
  if (e instanceof SquashError || !isSystemError(e)) return e;
  const known = SYSTEM_ERRORS[e.code];
  if (!known) return e;
  const path = file ?? e.path;
  // `ENOSPC: disk full`, the way Node.js itself words system errors.
  return new FileError(
    `${doing ? `${doing}: ` : ''}${e.code}: ${known.what}`,
    e.code,
    { location: path ? { file: path } : undefined, hint: known.hint, cause: e },
    known.exit,
  );
}

/**
 * Failures of the machine or of the files Squash keeps (database, caches, artifacts), not of one
 * trial: every later trial would fail the same way, so a sweep stops instead of recording each.
 */
export function isEnvironmentError(e: unknown): boolean {
  return e instanceof StoreError || e instanceof FileError || (isSystemError(e) && e.code in SYSTEM_ERRORS);
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  let head = loc.file ?? '';
  if (loc.line !== undefined) head += `:${loc.line}${loc.column !== undefined ? `:${loc.column}` : ''}`;
  const parts = [head, loc.path].filter((s) => s && s.length > 0);
  return parts.length ? `${parts.join(': ')}:` : '';
}

/** Out of disk space, as the file system (ENOSPC, EDQUOT) or SQLite (SQLITE_FULL) says it. */
export function isDiskFull(e: unknown): boolean {
  const code = (x: unknown) => (x as { code?: unknown } | undefined)?.code;
  const full = (c: unknown) => c === 'ENOSPC' || c === 'EDQUOT' || c === 'SQLITE_FULL';
  return full(code(e)) || (e instanceof SquashError && full(code(e.cause)));
}
