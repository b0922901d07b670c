// Compiles csrc/kernels.cc into dist/squash_native.node with the machine's C++ compiler and Node's
// own headers (no node-gyp, no download). It runs after tsc in `build`, and as the install hook of
// the published package, which ships these sources rather than a binary. One build runs on every
// x86-64 CPU: the hot loops carry AVX-512, AVX2 and baseline versions chosen at load time. A
// machine without a compiler or headers still builds (or installs) the package: the failure is
// written to dist/addon-status.json, and Squash falls back to the wasm backend, saying why. With
// SQUASH_NATIVE_REQUIRED=1 (CI) a build that fails — or warns: warnings are errors there — exits
// non-zero with the compiler's message instead, so a broken kernel fails CI rather than showing up
// as skipped tests.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// SQUASH_NATIVE_DIR: where the addon goes (tests build into a temporary directory); default dist/.
const dir = process.env.SQUASH_NATIVE_DIR || join(root, 'dist');
const out = join(dir, 'squash_native.node');
const status = join(dir, 'addon-status.json');
const required = process.env.SQUASH_NATIVE_REQUIRED === '1';
// `--install`: npm's install hook in a user's node_modules, where the published package ships
// csrc/ and this script but no src/ and no addon — it compiles there. In this repository the build
// script compiles after tsc instead, so the hook (pnpm runs a workspace package's too) does nothing.
if (process.argv.includes('--install') && existsSync(join(root, 'src'))) process.exit(0);
mkdirSync(dir, { recursive: true });

/** Records the outcome; a failure is fatal only when the addon is required. `details`: the compiler's output. */
function finish(ok, reason, details = '') {
  // A failed build must not leave an older addon behind to be loaded.
  if (!ok) rmSync(out, { force: true });
  writeFileSync(status, `${JSON.stringify({ ok, reason })}\n`);
  if (details) process.stderr.write(`${details.trimEnd()}\n`);
  if (!ok && required) {
    console.error(`squash native addon: build failed and SQUASH_NATIVE_REQUIRED=1 (${reason})`);
    process.exit(1);
  }
  console.log(`squash native addon: ${ok ? 'built' : 'not built'} (${reason})`);
  process.exit(0);
}

if (process.env.SQUASH_NATIVE_BUILD === '0') finish(false, 'SQUASH_NATIVE_BUILD=0');
const headerDirs = [
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  join(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].filter(Boolean);
const include = headerDirs.find((d) => existsSync(join(d, 'node_api.h')));
if (!include) finish(false, `no node_api.h in ${headerDirs.join(', ')}`);
const compilers = process.env.CXX ? [process.env.CXX] : ['c++', 'g++', 'clang++'];
const cxx = compilers.find((c) => !spawnSync(c, ['--version'], { encoding: 'utf8' }).error);
if (!cxx) finish(false, `no C++ compiler (tried ${compilers.join(', ')})`);
const args = [
  '-O3',
  '-std=c++17',
  '-fPIC',
  '-shared',
  '-fno-math-errno',
  '-fvisibility=hidden',
  '-Wall',
  '-Wextra',
  '-Wpedantic',
  '-Wshadow',
  ...(required ? ['-Werror'] : []),
  '-DNAPI_VERSION=8',
  `-I${include}`,
  '-o',
  `${out}.tmp`,
  join(root, 'csrc', 'kernels.cc'),
  '-lpthread',
];
if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
const t0 = Date.now();
const r = spawnSync(cxx, args, { encoding: 'utf8' });
if (r.error) finish(false, `${cxx} not runnable: ${r.error.message}`);
const messages = `${r.stdout || ''}${r.stderr || ''}`;
if (r.status !== 0) {
  rmSync(`${out}.tmp`, { force: true });
  const summary = (r.stderr || '').trim().split('\n').slice(0, 3).join(' | ');
  finish(false, `${cxx} failed: ${summary}`, messages);
}
renameSync(`${out}.tmp`, out); // atomic: a running process keeps the file it loaded
finish(true, `${cxx} ${((Date.now() - t0) / 1000).toFixed(1)} s`, messages); // warnings, if any, stay visible
