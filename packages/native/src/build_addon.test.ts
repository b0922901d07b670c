import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAddon } from './addon.js';

// The real build script, run into temporary directories with a stand-in compiler that records its
// arguments and fails on request, or with the machine's own compiler.
const script = join(__dirname, '..', 'scripts', 'build-addon.mjs');
const fakeCxx = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'squash-fake-cxx-'));
  const path = join(dir, 'c++');
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      '[ "$1" = --version ] && { echo fake 1.0; exit 0; }',
      `echo "$@" > ${JSON.stringify(join(dir, 'args.txt'))}`,
      'if [ -n "$FAKE_CXX_FAIL" ]; then echo "kernels.cc:12:3: error: deliberately broken" >&2; exit 1; fi',
      'while [ $# -gt 0 ]; do [ "$1" = -o ] && : > "$2"; shift; done',
      'exit 0',
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return { path, args: () => readFileSync(join(dir, 'args.txt'), 'utf8').trim().split(' ') };
})();

function build(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'squash-native-'));
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['SQUASH_NATIVE_REQUIRED', 'SQUASH_NATIVE_BUILD', 'CXX'].includes(k)),
  );
  const r = spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    env: { ...base, SQUASH_NATIVE_DIR: dir, ...env },
  });
  const status = JSON.parse(readFileSync(join(dir, 'addon-status.json'), 'utf8')) as { ok: boolean; reason: string };
  return { ...r, status: r.status, recorded: status, built: existsSync(join(dir, 'squash_native.node')) };
}

describe('build-addon.mjs', () => {
  it('without SQUASH_NATIVE_REQUIRED, a compile error is written down and the build exits 0', () => {
    const r = build({ CXX: fakeCxx.path, FAKE_CXX_FAIL: '1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /squash native addon: not built \(.*c\+\+ failed: kernels.cc:12:3: error: deliberately broken\)/,
    );
    expect(r.recorded.ok).toBe(false);
    expect(r.built).toBe(false);
  });

  it('with SQUASH_NATIVE_REQUIRED=1, a compile error exits non-zero with the compiler message', () => {
    const r = build({ CXX: fakeCxx.path, FAKE_CXX_FAIL: '1', SQUASH_NATIVE_REQUIRED: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('kernels.cc:12:3: error: deliberately broken');
    expect(r.stderr).toMatch(/build failed and SQUASH_NATIVE_REQUIRED=1/);
    expect(r.built).toBe(false);
  });

  it('with SQUASH_NATIVE_REQUIRED=1, a missing compiler exits non-zero', () => {
    const r = build({ CXX: 'no-such-c++', SQUASH_NATIVE_REQUIRED: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/SQUASH_NATIVE_REQUIRED=1 \(no C\+\+ compiler \(tried no-such-c\+\+\)\)/);
  });

  it('compiles with warnings on, and makes them errors when the addon is required', () => {
    expect(build({ CXX: fakeCxx.path }).status).toBe(0);
    const relaxed = fakeCxx.args();
    expect(relaxed).toEqual(expect.arrayContaining(['-Wall', '-Wextra']));
    expect(relaxed).not.toContain('-Werror');
    const r = build({ CXX: fakeCxx.path, SQUASH_NATIVE_REQUIRED: '1' });
    expect(r.status).toBe(0);
    expect(r.built).toBe(true);
    expect(fakeCxx.args()).toEqual(expect.arrayContaining(['-Wall', '-Wextra', '-Werror']));
  });

  // Where this machine built the addon, its compiler must also build it with every warning an error.
  it.skipIf(!loadAddon().addon)('the kernels compile here without a warning', () => {
    const r = build({ SQUASH_NATIVE_REQUIRED: '1' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.built).toBe(true);
  });
});
