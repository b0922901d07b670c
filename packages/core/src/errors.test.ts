import { describe, expect, it } from 'vitest';
import { FileError, fileError, InternalError, isDiskFull, isEnvironmentError, StoreError } from './index.js';

/** A system error as Node.js makes one (fs calls). */
function systemError(code: string, path?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something, open '${path}'`), { code, errno: -1, syscall: 'open', path });
}

describe('fileError: a system error as a FileError naming the path and what to do', () => {
  it.each([
    ['ENOENT', 2, /^x\/a\.sqz: writing: ENOENT: no such file or directory$/],
    ['EACCES', 2, /^x\/a\.sqz: writing: EACCES: permission denied \(check the permissions/],
    ['EROFS', 2, /^x\/a\.sqz: writing: EROFS: read-only file system \(use a writable location/],
    ['EISDIR', 2, /^x\/a\.sqz: writing: EISDIR: is a directory, not a file$/],
    ['ENOTDIR', 2, /^x\/a\.sqz: writing: ENOTDIR: a part of the path is a file/],
    ['ENOSPC', 1, /^x\/a\.sqz: writing: ENOSPC: disk full \(free some space, then run the same command again/],
    ['EDQUOT', 1, /disk quota exceeded/],
    ['EIO', 1, /I\/O error/],
    ['EMFILE', 1, /too many open files/],
  ] as const)('%s → exit %i', (code, exit, text) => {
    const e = fileError(systemError(code), 'x/a.sqz', 'writing');
    expect(e).toBeInstanceOf(FileError);
    expect((e as FileError).code).toBe(code);
    expect((e as FileError).exitCode).toBe(exit);
    expect((e as FileError).describe()).toMatch(text);
    expect(isEnvironmentError(e)).toBe(true);
  });

  it("names Node's path when none is given", () => {
    expect((fileError(systemError('ENOENT', '/d/f')) as FileError).describe()).toBe(
      '/d/f: ENOENT: no such file or directory',
    );
  });

  it('passes anything else through unchanged', () => {
    const odd = systemError('EWHATEVER');
    expect(fileError(odd)).toBe(odd);
    const plain = new TypeError('t');
    expect(fileError(plain)).toBe(plain);
    expect(isEnvironmentError(plain)).toBe(false);
    expect(isEnvironmentError(new InternalError('bug'))).toBe(false);
  });

  it('knows a full disk from the file system and from SQLite', () => {
    expect(isDiskFull(systemError('ENOSPC'))).toBe(true);
    expect(isDiskFull(fileError(systemError('EDQUOT')))).toBe(true);
    const sqlite = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    expect(isDiskFull(new StoreError('disk full', { cause: sqlite }, 1))).toBe(true);
    expect(isDiskFull(fileError(systemError('EACCES')))).toBe(false);
    expect(isEnvironmentError(new StoreError('locked', {}, 1))).toBe(true);
  });
});
