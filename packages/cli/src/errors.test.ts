import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ConfigError, FileError, InternalError, SpecError, StoreError } from '@squash/core';
import { exitCodeFor, toSquashError } from './errors.js';

function top(e: unknown): { code: number; text: string } {
  let text = '';
  const code = exitCodeFor(e, (s) => void (text += s));
  return { code, text };
}

describe('the error boundary (what reaches the top-level catch)', () => {
  it('passes Squash errors through: their message, their exit code, no stack', () => {
    expect(top(new ConfigError('bad', { location: { file: 'e.yaml', line: 2 } }))).toEqual({
      code: 2,
      text: 'squash: e.yaml:2: bad\n',
    });
  });

  it('maps a system error that got past the code near it: the path Node recorded, what to do', () => {
    const e = Object.assign(new Error("ENOSPC: no space left on device, write '/r/x'"), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
      path: '/r/x',
    });
    expect(toSquashError(e)).toBeInstanceOf(FileError);
    const { code, text } = top(e);
    expect(code).toBe(1);
    expect(text).toMatch(/^squash: \/r\/x: ENOSPC: disk full \(free some space/);
    expect(text).not.toMatch(/^ {4}at /m);
  });

  it("maps SQLite's errors by code", () => {
    const e = new Database.SqliteError('database disk image is malformed', 'SQLITE_CORRUPT');
    expect(toSquashError(e)).toBeInstanceOf(StoreError);
    expect(top(e).code).toBe(2);
  });

  it('anything else is a bug: exit 1, a plea to report it, and the original stack', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(toSquashError(bug)).toBeInstanceOf(InternalError);
    const { code, text } = top(bug);
    expect(code).toBe(1);
    expect(text).toMatch(/^squash: internal error \(please report it with the lines below\): TypeError: Cannot read/);
    expect(text).toMatch(/^ {4}at /m);
    expect(top('a string thrown').code).toBe(1);
    expect(top(new InternalError('invariant')).text).toMatch(/InternalError: invariant\n {4}at /);
  });

  it('shows names from files escaped, keeping its own line breaks', () => {
    const e = new SpecError([
      new ConfigError("unknown sweep 'evil\x1b]0;pwned\x07\u202e'", { hint: 'sweeps: a, b' }),
      new ConfigError('duplicate seed 3'),
    ]);
    const { code, text } = top(e);
    expect(code).toBe(2);
    expect(text).toContain("unknown sweep 'evil\\x1b]0;pwned\\x07\\u202e'");
    expect(text).not.toContain('\x1b');
    expect(text.trimEnd().split('\n')).toHaveLength(2);
  });
});
