import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './__tests__/fixtures.js';
import { type HeldLock, tryLock } from './cache_lock.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

const holder = (pid: number, host = hostname()) =>
  JSON.stringify({ host, pid, since: new Date().toISOString(), token: `t-${pid}` });

const held = (l: ReturnType<typeof tryLock>): HeldLock => {
  if ('heldBy' in l) throw new Error(`lock is held by ${JSON.stringify(l.heldBy)}`);
  return l;
};

describe('cache lock', () => {
  it('is taken once: a second attempt sees the holder; released, it can be taken again', () => {
    const path = join(tempDir(), 'x.lock');
    const a = held(tryLock(path));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ host: hostname(), pid: process.pid });
    expect(tryLock(path)).toEqual({ heldBy: a.holder });
    a.release();
    expect(existsSync(path)).toBe(false);
    held(tryLock(path)).release();
  });

  it('waits for a live holder of this host, another host, and a lock still being written', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'live.lock'), holder(process.ppid));
    expect(tryLock(join(dir, 'live.lock'))).toEqual({ heldBy: expect.objectContaining({ pid: process.ppid }) });
    writeFileSync(join(dir, 'remote.lock'), holder(deadPid(), 'another-host'));
    expect('heldBy' in tryLock(join(dir, 'remote.lock'))).toBe(true);
    writeFileSync(join(dir, 'empty.lock'), '');
    expect(tryLock(join(dir, 'empty.lock'))).toEqual({ heldBy: undefined });
  });

  it('takes over a lock whose pid is dead on this host, or that was not refreshed within the window', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'dead.lock'), holder(deadPid()));
    held(tryLock(join(dir, 'dead.lock'))).release();
    // A lock of this very pid that this process does not hold: left by an earlier process (containers reuse pids).
    writeFileSync(join(dir, 'namesake.lock'), holder(process.pid));
    held(tryLock(join(dir, 'namesake.lock'))).release();
    const old = new Date(Date.now() - 120_000);
    for (const name of ['remote.lock', 'empty.lock']) {
      writeFileSync(join(dir, name), name === 'empty.lock' ? '' : holder(process.ppid, 'another-host'));
      utimesSync(join(dir, name), old, old);
      held(tryLock(join(dir, name))).release();
    }
  });

  it('leaves no lock behind when its process exits (as on a signal) without releasing it', () => {
    const path = join(tempDir(), 'x.lock');
    const module = pathToFileURL(join(__dirname, '..', 'dist', 'cache_lock.js')).href;
    const script = `import { tryLock } from ${JSON.stringify(module)};
      const l = tryLock(${JSON.stringify(path)}); if ('heldBy' in l) process.exit(3);
      process.exit(130);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(130);
    expect(existsSync(path)).toBe(false);
  });

  it('keeps a held lock fresh, and never removes a lock another process took over', async () => {
    const path = join(tempDir(), 'x.lock');
    const a = held(tryLock(path, { staleMs: 300, refreshMs: 20 }));
    const old = new Date(Date.now() - 10_000);
    utimesSync(path, old, old);
    await new Promise((r) => setTimeout(r, 100));
    expect('heldBy' in tryLock(path, { staleMs: 300 })).toBe(true); // refreshed: still live
    writeFileSync(path, holder(process.ppid));
    a.release();
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.ppid);
  });
});
