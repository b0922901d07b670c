// Runs every package's vitest suite through turbo, echoes the output, and ends with one plain
// "N passed, N failed" line summed over packages (CI reads it); exits with turbo's code.
import { spawn } from 'node:child_process';

const child = spawn('bash', ['scripts/pnpm.sh', 'exec', 'turbo', 'run', 'test', '--continue', '--output-logs=full', '--log-order=grouped'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: '0' },
});
let text = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  text += chunk.toString();
});
child.on('close', (code) => {
  let passed = 0, failed = 0, skipped = 0;
  // eslint-disable-next-line no-control-regex
  for (const line of text.replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
    const m = /^\S*:?test:\s+Tests\s+(.*)$/.exec(line.trim()) ?? /^\s*Tests\s+(.*\(\d+\))\s*$/.exec(line);
    if (!m) continue;
    passed += Number(/(\d+) passed/.exec(m[1])?.[1] ?? 0);
    failed += Number(/(\d+) failed/.exec(m[1])?.[1] ?? 0);
    skipped += Number(/(\d+) skipped/.exec(m[1])?.[1] ?? 0);
  }
  if (code !== 0 && failed === 0) failed = 1; // a crash before vitest's summary still fails
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code ?? 1);
});
