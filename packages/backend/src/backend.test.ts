import { describe, expect, it } from 'vitest';
import { ConfigError } from '@squash/core';
import { backendPreference, selectBackend } from './index.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadAddon } from '@squash/native';
describe('backend', () => {
  it('rejects an unknown preference with exit code 2', () => {
    expect(() => backendPreference('gpu')).toThrow(ConfigError);
    expect(backendPreference('node')).toBe('tensorflow');
  });
  it('falls back from auto to a working backend and records its name', async () => {
    const choice = await selectBackend({ prefer: 'auto' });
    const tf = await import('@tensorflow/tfjs');
    expect(choice.name).toBe(tf.getBackend());
    expect(['tensorflow', 'native', 'wasm', 'cpu']).toContain(choice.name);
    expect(choice.reason.length).toBeGreaterThan(0);
  });
  const withoutBackend = () =>
    Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => k !== 'SQUASH_BACKEND' && k !== 'SQUASH_NATIVE' && k !== 'SQUASH_NATIVE_DIR',
      ),
    );
  // Each in a fresh process: the choice is made once per process.
  const choose = (env: Record<string, string>) => {
    const script = `import { selectBackend } from ${JSON.stringify(pathToFileURL(join(__dirname, '..', 'dist', 'index.js')).href)};
      const c = await selectBackend(); const tf = await import('@tensorflow/tfjs');
      console.log(JSON.stringify({ ...c, active: tf.getBackend() }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: __dirname,
      encoding: 'utf8',
      env: { ...withoutBackend(), ...env },
    });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { name: string; reason: string; active: string };
  };
  it.skipIf(!loadAddon().addon)('auto picks the native backend when its addon loads, and says so', () => {
    const c = choose({});
    expect(c).toMatchObject({ name: 'native', active: 'native' });
    expect(c.reason).toMatch(/native \(squash C\+\+ kernels: .*threads?\)/);
  });
  it.each([
    ['cpu', true],
    ['native', !!loadAddon().addon],
  ])("the %s backend trains without tfjs' 'install the node backend' banner", (backend, available) => {
    if (!available) return;
    const script = `import { selectBackend } from ${JSON.stringify(pathToFileURL(join(__dirname, '..', 'dist', 'index.js')).href)};
      await selectBackend(); const tf = await import('@tensorflow/tfjs');
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync());
      console.warn('a warning of the program itself');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: __dirname,
      encoding: 'utf8',
      env: { ...withoutBackend(), SQUASH_BACKEND: backend },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/node backend|={10}/);
    expect(r.stderr).toContain('a warning of the program itself');
  });

  it('falls back to wasm, saying why, when the native addon is unavailable', () => {
    const c = choose({ SQUASH_NATIVE: '0' });
    expect(c).toMatchObject({ name: 'wasm', active: 'wasm' });
    expect(c.reason).toMatch(/disabled by SQUASH_NATIVE=0 → wasm/);
  });
  it('falls back to wasm when the addon could not be built, naming the build failure', () => {
    // The real build script, with no compiler, into a temporary directory the loader then reads.
    const dir = mkdtempSync(join(tmpdir(), 'squash-native-'));
    const script = join(__dirname, '..', '..', 'native', 'scripts', 'build-addon.mjs');
    // Not required (CI sets SQUASH_NATIVE_REQUIRED=1): the fallback path, which exits 0.
    const { SQUASH_NATIVE_REQUIRED: _, ...optional } = process.env;
    const build = spawnSync(process.execPath, [script], {
      encoding: 'utf8',
      env: { ...optional, SQUASH_NATIVE_DIR: dir, CXX: 'no-such-c++' },
    });
    expect(build.status).toBe(0);
    expect(build.stdout).toMatch(/not built \(no C\+\+ compiler/);
    const c = choose({ SQUASH_NATIVE_DIR: dir });
    expect(c).toMatchObject({ name: 'wasm', active: 'wasm' });
    expect(c.reason).toMatch(/native addon not built: no C\+\+ compiler \(tried no-such-c\+\+\) → wasm/);
  });
  it('a forced native backend that cannot load is a ConfigError', () => {
    const script = `import { selectBackend } from ${JSON.stringify(pathToFileURL(join(__dirname, '..', 'dist', 'index.js')).href)};
      try { await selectBackend({ prefer: 'native' }); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: __dirname,
      encoding: 'utf8',
      env: { ...withoutBackend(), SQUASH_NATIVE: '0' },
    });
    expect(r.stdout).toMatch(/ConfigError: backend 'native' is not available: disabled by SQUASH_NATIVE=0/);
  });
  it('honours a forced cpu backend', async () => {
    const choice = await selectBackend({ prefer: 'cpu' });
    expect(choice.name).toBe('cpu');
    expect(choice.reason).toMatch(/forced/);
  });
});
