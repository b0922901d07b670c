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

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  let head = loc.file ?? '';
  if (loc.line !== undefined) head += `:${loc.line}${loc.column !== undefined ? `:${loc.column}` : ''}`;
  const parts = [head, loc.path].filter((s) => s && s.length > 0);
  return parts.length ? `${parts.join(': ')}:` : '';
}
