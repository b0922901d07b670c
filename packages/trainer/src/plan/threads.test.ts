import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '@squash/backend';

// The kernels' thread pool is sized once per process, so each thread count runs in its own.
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/plan-bits.mjs');
const nativeAvailable = await selectBackend({ prefer: 'native' }).then(
  () => true,
  () => false,
);

function trainWith(threads: number): { before: string; after: string; path: string } {
  const r = spawnSync(process.execPath, [SCRIPT], {
    encoding: 'utf8',
    env: { ...process.env, SQUASH_NATIVE_THREADS: String(threads) },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe.skipIf(!nativeAvailable)('the compiled plan and the thread count', () => {
  it('trains to the same bits with 1 and 2 kernel threads (a --jobs worker and a lone process agree)', () => {
    const one = trainWith(1);
    const two = trainWith(2);
    expect(one.path).toBe('native-plan');
    expect(one.after).not.toBe(one.before);
    expect(two.before).toBe(one.before);
    expect(two.after).toBe(one.after);
  }, 60_000);
});
