import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite_store.js';

const worker = { host: 'elsewhere', pid: 42, invocation: 'inv', version: '0.1.0', backend: 'wasm' };

describe('recordRun (a run computed by a queue worker)', () => {
  it('writes the run whole, as the next attempt, once per key', () => {
    const store = SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'squash-record-')), 'db.sqlite'));
    try {
      const exp = store.ensureExperiment('e', '');
      const run = {
        experimentId: exp,
        trialId: 't1',
        sweep: 's',
        label: 'l',
        isBaseline: false,
        seed: 1,
        backend: 'wasm',
        config: {},
        worker,
      };
      const first = store.recordRun(run, { status: 'FAILED', error: 'boom' }, 'job@1');
      const result = {
        status: 'FINISHED' as const,
        params: { p: 1 },
        metrics: [{ key: 'accuracy', value: 0.5 }],
        artifacts: [{ kind: 'model', path: '/a.sqz', bytes: 3, sha256: 'ab' }],
      };
      const second = store.recordRun(run, result, 'job@2');
      // The same result delivered again (a recorder restarted before it removed the job): nothing new.
      expect(store.recordRun(run, result, 'job@2')).toBeUndefined();
      expect(first).toBeDefined();
      const runs = store.runsOfTrial('t1');
      expect(runs.map((r) => [r.status, r.attempt])).toEqual([
        ['FAILED', 1],
        ['FINISHED', 2],
      ]);
      const view = store.getRun(second!);
      expect(view.metrics.accuracy).toBe(0.5);
      expect(view.tags['queue.job']).toBe('job@2');
      expect(store.runDetails(second!)).toMatchObject({ host: 'elsewhere', pid: 42 });
    } finally {
      store.close();
    }
  });
});
