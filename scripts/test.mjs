// Checks formatting and lint (Biome), type-checks every package with its tests, runs every
// package's vitest suite through turbo, echoes the output, and ends with one plain
// "N passed, N failed" line summed over packages (CI reads it); exits non-zero if any part failed.
import { spawn, spawnSync } from 'node:child_process';

const biome = spawnSync('node_modules/.bin/biome', ['ci', '--colors=off', '.'], { stdio: 'inherit' });
const lintFailed = biome.status !== 0;
if (lintFailed) console.error('\nbiome: formatting or lint problems above (fix with: npx biome check --write .)');

const child = spawn(
  'bash',
  [
    'scripts/pnpm.sh',
    'exec',
    'turbo',
    'run',
    'typecheck',
    'test',
    '--continue',
    '--output-logs=full',
    '--log-order=grouped',
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FORCE_COLOR: '0' },
  },
);
let text = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  text += chunk.toString();
});
child.on('close', (code) => {
  let passed = 0,
    failed = 0,
    skipped = 0;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  for (const line of text.replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
    const m = /^\S*:?test:\s+Tests\s+(.*)$/.exec(line.trim()) ?? /^\s*Tests\s+(.*\(\d+\))\s*$/.exec(line);
    if (!m) continue;
    passed += Number(/(\d+) passed/.exec(m[1])?.[1] ?? 0);
    failed += Number(/(\d+) failed/.exec(m[1])?.[1] ?? 0);
    skipped += Number(/(\d+) skipped/.exec(m[1])?.[1] ?? 0);
  }
  // A type error, a lint problem or a crash before vitest's summary still fails.
  if ((code !== 0 || lintFailed) && failed === 0) failed = 1;
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(lintFailed && code === 0 ? 1 : (code ?? 1));
});
