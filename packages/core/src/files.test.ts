import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileError, writeFileAtomic } from './index.js';

describe('writeFileAtomic', () => {
  it('writes the whole file, creating its directory, and leaves no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'squash-files-'));
    const path = join(dir, 'a', 'b.json');
    writeFileAtomic(path, '{"x":1}', 'writing a test file');
    expect(readFileSync(path, 'utf8')).toBe('{"x":1}');
    expect(readdirSync(join(dir, 'a'))).toEqual(['b.json']);
  });

  it('on failure removes its temp file and names the path and what it was doing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'squash-files-'));
    writeFileSync(join(dir, 'file'), 'not a directory');
    const path = join(dir, 'file', 'b.json');
    let error: unknown;
    try {
      writeFileAtomic(path, 'x', 'writing a test file');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FileError);
    expect((error as FileError).describe()).toContain(path);
    expect(readdirSync(dir)).toEqual(['file']);
  });
});
